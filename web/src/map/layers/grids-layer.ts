/**
 * The published grids as a GeoJSON source with a fill and an outline. `add` attaches both layers and the
 * source; `remove` detaches exactly those (MapLibre's onAdd/onRemove symmetry).
 */
import type { GridCollection } from '@contracts/grid';
import type { GeoJSONSource, LngLatBoundsLike, Map as MapLibreMap } from 'maplibre-gl';
import { LAYER_IDS, SOURCE_IDS } from '../ids';

export class GridsLayer {
  private map: MapLibreMap | undefined;

  add(map: MapLibreMap, grids: GridCollection): void {
    this.map = map;
    map.addSource(SOURCE_IDS.grids, { type: 'geojson', data: grids as unknown as GeoJSON.FeatureCollection, promoteId: 'code' });
    map.addLayer({
      id: LAYER_IDS.gridsFill,
      type: 'fill',
      source: SOURCE_IDS.grids,
      paint: {
        'fill-color': ['match', ['get', 'kind'], 'dedicated', '#e3a857', '#6fa8dc'],
        'fill-opacity': 0.25,
      },
    });
    map.addLayer({
      id: LAYER_IDS.gridsLine,
      type: 'line',
      source: SOURCE_IDS.grids,
      paint: { 'line-color': '#1f4e79', 'line-width': 1.2 },
    });
  }

  update(grids: GridCollection): void {
    void this.map?.getSource<GeoJSONSource>(SOURCE_IDS.grids)?.setData(grids as unknown as GeoJSON.FeatureCollection);
  }

  remove(): void {
    const map = this.map;
    if (!map) return;
    for (const id of [LAYER_IDS.gridsLine, LAYER_IDS.gridsFill]) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(SOURCE_IDS.grids)) map.removeSource(SOURCE_IDS.grids);
    this.map = undefined;
  }
}

/** Bounds of a collection's coordinates, or undefined when empty. */
export function boundsOf(grids: GridCollection): LngLatBoundsLike | undefined {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as [number, number];
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    } else if (Array.isArray(c)) for (const child of c) visit(child);
  };
  for (const f of grids.features) visit(f.geometry.coordinates);
  return Number.isFinite(w) ? [[w, s], [e, n]] : undefined;
}
