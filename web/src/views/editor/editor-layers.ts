/**
 * Map layers of the grid editor: the community boundary, the open layout's grids (coloured by
 * household balance, outlined, labelled with their codes, the selection highlighted), the problem being
 * looked at, the other side's version in a save conflict, and buildings coloured by household count.
 * The layout is one community (hundreds of grids at most), so it is a GeoJSON source that updates
 * instantly after each edit; everything else on the map stays vector tiles. add/remove are symmetric.
 */
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { GeoJSONSource, Map as MapLibreMap } from 'maplibre-gl';
import { SOURCE_IDS } from '../../map/ids';
import { labelPoint } from '../../map/label-point';

const S = { boundary: 'editor-boundary', grids: 'editor-grids', labels: 'editor-grid-labels', problem: 'editor-problem', conflict: 'editor-conflict' } as const;
const L = {
  communities: 'editor-communities-hit',
  buildings: 'editor-buildings-households',
  boundary: 'editor-boundary-line',
  gridsFill: 'editor-grids-fill',
  gridsLine: 'editor-grids-line',
  selected: 'editor-grids-selected',
  labels: 'editor-grids-label',
  problemFill: 'editor-problem-fill',
  problemLine: 'editor-problem-line',
  conflict: 'editor-conflict-line',
} as const;
export const EDITOR_LAYER_IDS = L;

/** Building fill by number of households (interpolated between these stops); also the map legend's. */
export const HOUSEHOLD_COLOURS: ReadonlyArray<readonly [number, string]> = [
  [0, '#e8e4dc'],
  [10, '#f4c27a'],
  [40, '#e07b39'],
  [100, '#9c2f12'],
];
/** Grid tint by household balance; also the map legend's (and the balance bars', editor.css). */
export const BALANCE_COLOURS = { ok: '#27ae60', under: '#f1c40f', over: '#e74c3c', unknown: '#95a5a6' } as const;

const empty: FeatureCollection = { type: 'FeatureCollection', features: [] };

/** Properties the grid layers read: `status` is the household balance (ok/under/over/unknown). */
export interface EditorGridProperties {
  id: number;
  label: string;
  status: 'ok' | 'under' | 'over' | 'unknown';
}

export class EditorLayers {
  private map: MapLibreMap | undefined;

  add(map: MapLibreMap): void {
    this.map = map;
    for (const id of Object.values(S)) map.addSource(id, { type: 'geojson', data: empty, ...(id === S.grids ? { promoteId: 'id' } : {}) });
    // The communities of the base map's divisions tiles, invisible: a click on one opens it.
    if (map.getSource(SOURCE_IDS.divisions)) {
      map.addLayer({ id: L.communities, type: 'fill', source: SOURCE_IDS.divisions, 'source-layer': 'divisions', filter: ['==', ['get', 'level'], 'community'], paint: { 'fill-opacity': 0 } });
    }
    // Buildings by household count, over the base buildings (only when the offline base map is on).
    if (map.getSource(SOURCE_IDS.buildings)) {
      map.addLayer({
        id: L.buildings,
        type: 'fill',
        source: SOURCE_IDS.buildings,
        'source-layer': 'buildings',
        paint: {
          'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'households'], 0], ...HOUSEHOLD_COLOURS.flat()],
          'fill-outline-color': '#8c8477',
        },
      });
    }
    map.addLayer({ id: L.gridsFill, type: 'fill', source: S.grids, paint: { 'fill-color': ['match', ['get', 'status'], 'under', BALANCE_COLOURS.under, 'over', BALANCE_COLOURS.over, 'ok', BALANCE_COLOURS.ok, BALANCE_COLOURS.unknown], 'fill-opacity': 0.18 } });
    map.addLayer({ id: L.gridsLine, type: 'line', source: S.grids, paint: { 'line-color': '#1f4e79', 'line-width': 1.5 } });
    map.addLayer({
      id: L.selected,
      type: 'line',
      source: S.grids,
      paint: { 'line-color': '#2980b9', 'line-width': 4, 'line-opacity': ['case', ['boolean', ['feature-state', 'selected'], false], 1, 0] },
    });
    map.addLayer({ id: L.boundary, type: 'line', source: S.boundary, paint: { 'line-color': '#7b3f61', 'line-width': 2.5 } });
    map.addLayer({ id: L.problemFill, type: 'fill', source: S.problem, paint: { 'fill-color': '#c0392b', 'fill-opacity': 0.45 } });
    map.addLayer({ id: L.problemLine, type: 'line', source: S.problem, paint: { 'line-color': '#c0392b', 'line-width': 3 } });
    map.addLayer({ id: L.conflict, type: 'line', source: S.conflict, paint: { 'line-color': '#e74c3c', 'line-width': 3, 'line-dasharray': [2, 2] } });
    map.addLayer({
      id: L.labels,
      type: 'symbol',
      // One point per grid (labelPoint): over the polygons, each internal tile a grid touches labelled it.
      source: S.labels,
      layout: { 'text-field': ['get', 'label'], 'text-size': 12, 'text-allow-overlap': false },
      paint: { 'text-color': '#102a43', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    });
  }

  setBoundary(geometry: Geometry | null): void {
    this.setData(S.boundary, geometry ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry, properties: {} }] } : empty);
  }

  setGrids(features: Array<Feature<Geometry, EditorGridProperties>>): void {
    this.setData(S.grids, { type: 'FeatureCollection', features });
    const labels: Feature[] = [];
    for (const f of features) {
      const at = f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon' ? labelPoint(f.geometry) : null;
      if (at) labels.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { id: f.properties.id, label: f.properties.label } });
    }
    this.setData(S.labels, { type: 'FeatureCollection', features: labels });
  }

  setSelected(ids: readonly number[], previous: readonly number[]): void {
    const map = this.map;
    if (!map?.getSource(S.grids)) return;
    for (const id of previous) map.setFeatureState({ source: S.grids, id }, { selected: false });
    for (const id of ids) map.setFeatureState({ source: S.grids, id }, { selected: true });
  }

  setProblem(geometry: Geometry | null): void {
    this.setData(S.problem, geometry ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry, properties: {} }] } : empty);
  }

  setConflict(geometry: Geometry | null): void {
    this.setData(S.conflict, geometry ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry, properties: {} }] } : empty);
  }

  remove(): void {
    const map = this.map;
    if (!map) return;
    for (const id of Object.values(L)) if (map.getLayer(id)) map.removeLayer(id);
    for (const id of Object.values(S)) if (map.getSource(id)) map.removeSource(id);
    this.map = undefined;
  }

  private setData(source: string, data: FeatureCollection): void {
    void this.map?.getSource<GeoJSONSource>(source)?.setData(data);
  }
}
