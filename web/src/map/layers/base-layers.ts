/**
 * The offline base map: the project's own divisions, roads and buildings as vector tiles from this
 * server (PostGIS ST_AsMVT), so the map needs no internet. Symmetric add/remove like MapLibre controls.
 */
import type { Map as MapLibreMap } from 'maplibre-gl';
import { LAYER_IDS, SOURCE_IDS } from '../ids';

const tiles = (layer: string): string[] => [`${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt`];

export class BaseLayers {
  private map: MapLibreMap | undefined;

  /** Adds the layers below `beforeId` (so data layers stay on top). */
  add(map: MapLibreMap, beforeId?: string): void {
    this.map = map;
    map.addSource(SOURCE_IDS.divisions, { type: 'vector', tiles: tiles('divisions'), minzoom: 6, maxzoom: 18 });
    map.addSource(SOURCE_IDS.roads, { type: 'vector', tiles: tiles('roads'), minzoom: 10, maxzoom: 20 });
    map.addSource(SOURCE_IDS.buildings, { type: 'vector', tiles: tiles('buildings'), minzoom: 14, maxzoom: 20 });
    map.addLayer(
      {
        id: LAYER_IDS.buildingsFill,
        type: 'fill',
        source: SOURCE_IDS.buildings,
        'source-layer': 'buildings',
        paint: {
          'fill-color': ['match', ['get', 'use'], 'commercial', '#d9b38c', 'mixed', '#c9b7d6', 'public', '#a9cfa4', '#c8c4bc'],
          'fill-outline-color': '#9a958c',
        },
      },
      beforeId,
    );
    map.addLayer(
      {
        id: LAYER_IDS.roadsLine,
        type: 'line',
        source: SOURCE_IDS.roads,
        'source-layer': 'roads',
        paint: {
          'line-color': '#ffffff',
          'line-width': ['match', ['get', 'kind'], 'primary', 6, 'secondary', 4, 2],
        },
      },
      beforeId,
    );
    map.addLayer(
      {
        id: LAYER_IDS.divisionsLine,
        type: 'line',
        source: SOURCE_IDS.divisions,
        'source-layer': 'divisions',
        paint: {
          'line-color': '#7b3f61',
          'line-width': ['match', ['get', 'level'], 'district', 3, 'street', 2, 1.2],
          'line-dasharray': [3, 2],
        },
      },
      beforeId,
    );
  }

  remove(): void {
    const map = this.map;
    if (!map) return;
    for (const id of [LAYER_IDS.divisionsLine, LAYER_IDS.roadsLine, LAYER_IDS.buildingsFill]) if (map.getLayer(id)) map.removeLayer(id);
    for (const id of [SOURCE_IDS.divisions, SOURCE_IDS.roads, SOURCE_IDS.buildings]) if (map.getSource(id)) map.removeSource(id);
    this.map = undefined;
  }
}
