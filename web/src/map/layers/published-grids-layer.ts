/**
 * The published grids of every community as vector tiles from this server (`/tiles/grids/…`, PostGIS
 * ST_AsMVT), with fill, outline and code labels. Tiles, not one GeoJSON download: a district has
 * 10,000 grids and only the ones on screen are fetched. Labels need no glyph server: without a `glyphs`
 * URL MapLibre draws every character with the browser's own fonts.
 */
import type { ExpressionSpecification, FilterSpecification, Map as MapLibreMap } from 'maplibre-gl';
import { LAYER_IDS, SOURCE_IDS } from '../ids';

const GRID_NAME: ExpressionSpecification = ['case', ['!=', ['coalesce', ['get', 'name'], ''], ''], ['get', 'name'], ['slice', ['coalesce', ['get', 'code'], ''], 12]];
const GRID_LABEL_TEXT: ExpressionSpecification = [
  'step',
  ['zoom'],
  ['format', GRID_NAME, {}, '\n', {}, ['coalesce', ['get', 'community_name'], ''], { 'font-scale': 0.85 }],
  16,
  ['format', GRID_NAME, {}],
];

export class PublishedGridsLayer {
  private map: MapLibreMap | undefined;

  add(map: MapLibreMap): void {
    this.map = map;
    map.addSource(SOURCE_IDS.grids, { type: 'vector', tiles: [`${location.origin}/tiles/grids/{z}/{x}/{y}.mvt`], minzoom: 10, maxzoom: 18, promoteId: { grids: 'id' } });
    map.addLayer({
      id: LAYER_IDS.gridsFill,
      type: 'fill',
      source: SOURCE_IDS.grids,
      'source-layer': 'grids',
      paint: { 'fill-color': ['match', ['get', 'kind'], 'dedicated', '#e3a857', '#6fa8dc'], 'fill-opacity': 0.22 },
    });
    map.addLayer({ id: LAYER_IDS.gridsLine, type: 'line', source: SOURCE_IDS.grids, 'source-layer': 'grids', paint: { 'line-color': '#1f4e79', 'line-width': 1.2 } });
    // One point per grid (`grid_labels`, written only into the tile holding it), so a grid spanning four
    // tiles is labelled once. The grid's name (第2网格; the last digits of its code if it has none), and
    // below zoom 16 its community too: neighbouring communities' grids share names.
    map.addLayer({
      id: LAYER_IDS.gridsLabel,
      type: 'symbol',
      source: SOURCE_IDS.grids,
      'source-layer': 'grid_labels',
      minzoom: 14,
      layout: { 'text-field': GRID_LABEL_TEXT, 'text-size': 11, 'text-allow-overlap': false },
      paint: { 'text-color': '#1f4e79', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
    });
  }

  remove(): void {
    const map = this.map;
    if (!map) return;
    for (const id of [LAYER_IDS.gridsLabel, LAYER_IDS.gridsLine, LAYER_IDS.gridsFill]) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(SOURCE_IDS.grids)) map.removeSource(SOURCE_IDS.grids);
    this.map = undefined;
  }
}

/** Hides the published grids of one community (a view drawing its own version of them); null shows all. */
export function hidePublishedGridsOf(map: MapLibreMap, communityCode: string | null): void {
  const filter: FilterSpecification | null = communityCode ? ['!=', ['get', 'community_code'], communityCode] : null;
  for (const id of [LAYER_IDS.gridsFill, LAYER_IDS.gridsLine, LAYER_IDS.gridsLabel]) if (map.getLayer(id)) map.setFilter(id, filter);
}
