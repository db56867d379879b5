/**
 * The analysis view's map layers: client-side heatmap of event points, server kernel density cells, a
 * count choropleth, Gi* hot/cold spots, emerging hot spot classes and DBSCAN cluster hulls. `add`
 * creates every source and layer once (hidden until used); `remove` takes away exactly those.
 */
import type { ExpressionSpecification, FilterSpecification, GeoJSONSource, Map as MapLibreMap } from 'maplibre-gl';
import { keepOnTop, whenStyleReady } from '../dispatch/dom';
import { CHOROPLETH_COLOURS, CLUSTER_COLOURS, EMERGING_COLOURS, HOTSPOT_CLASSES } from './colours';

export type LayerKey = 'heatmap' | 'density' | 'counts' | 'hotspots' | 'emerging' | 'clusters';

export const ANALYSIS_SOURCES: Record<LayerKey, string> = {
  heatmap: 'analysis-points',
  density: 'analysis-density',
  counts: 'analysis-counts',
  hotspots: 'analysis-hotspots',
  emerging: 'analysis-emerging',
  clusters: 'analysis-clusters',
};

/** Bottom to top. */
export const ANALYSIS_LAYERS = {
  density: ['analysis-density-fill'],
  counts: ['analysis-counts-fill', 'analysis-counts-line'],
  emerging: ['analysis-emerging-fill', 'analysis-emerging-line'],
  hotspots: ['analysis-hotspots-fill', 'analysis-hotspots-line'],
  heatmap: ['analysis-heatmap'],
  clusters: ['analysis-clusters-fill', 'analysis-clusters-line'],
} as const satisfies Record<LayerKey, readonly string[]>;

/**
 * Over every other layer: the cell numbers of the count choropleth (the table's "Hexagon 12"; shown with
 * the counts) and the outline of the unit whose table row was clicked.
 */
export const ANALYSIS_OVERLAYS = { selected: 'analysis-selected-line', labels: 'analysis-counts-label' } as const;
/** One point per cell at its centre: labels on the polygons would repeat in every tile a cell crosses. */
const LABEL_SOURCE = 'analysis-counts-labels';
const ALL_LAYERS = [...Object.values(ANALYSIS_LAYERS).flat(), ANALYSIS_OVERLAYS.selected, ANALYSIS_OVERLAYS.labels];
const NOTHING: FilterSpecification = ['==', ['get', 'unit'], ''];

const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

function matchBin(): ExpressionSpecification {
  return ['match', ['to-number', ['get', 'bin'], 0], ...HOTSPOT_CLASSES.flat(), '#ffffbf'] as unknown as ExpressionSpecification;
}

function matchEmerging(): ExpressionSpecification {
  const pairs = Object.entries(EMERGING_COLOURS).flat();
  return ['match', ['get', 'category'], ...pairs, '#f0f0f0'] as unknown as ExpressionSpecification;
}

/** Colour by `step` over class breaks (lower bounds of classes 2…). */
export function stepColours(property: string, breaks: readonly number[]): ExpressionSpecification | string {
  if (breaks.length === 0) return CHOROPLETH_COLOURS[2];
  const expr: unknown[] = ['step', ['to-number', ['get', property], 0], CHOROPLETH_COLOURS[0]];
  breaks.forEach((b, i) => expr.push(b, CHOROPLETH_COLOURS[Math.min(i + 1, CHOROPLETH_COLOURS.length - 1)]));
  return expr as ExpressionSpecification;
}

export class AnalysisLayers {
  private map: MapLibreMap | undefined;
  private ready = false;
  private cancelReady: (() => void) | undefined;
  private detachOnTop: (() => void) | undefined;
  private readonly data: Partial<Record<LayerKey, GeoJSON.FeatureCollection>> = {};
  private readonly visible: Record<LayerKey, boolean> = { heatmap: false, density: false, counts: false, hotspots: false, emerging: false, clusters: false };
  private readonly paint: Array<Parameters<MapLibreMap['setPaintProperty']>> = [];
  private selected: string | null = null;
  private labels: GeoJSON.FeatureCollection = EMPTY;

  add(map: MapLibreMap): void {
    this.map = map;
    this.detachOnTop = keepOnTop(map, ALL_LAYERS);
    this.cancelReady = whenStyleReady(map, () => {
      for (const key of Object.keys(ANALYSIS_SOURCES) as LayerKey[]) map.addSource(ANALYSIS_SOURCES[key], { type: 'geojson', data: this.data[key] ?? EMPTY });
      map.addSource(LABEL_SOURCE, { type: 'geojson', data: this.labels });
      const vis = (k: LayerKey): { visibility: 'visible' | 'none' } => ({ visibility: this.visible[k] ? 'visible' : 'none' });
      map.addLayer({ id: 'analysis-density-fill', type: 'fill', source: ANALYSIS_SOURCES.density, layout: vis('density'), paint: { 'fill-color': CHOROPLETH_COLOURS[2], 'fill-opacity': 0.7 } });
      map.addLayer({ id: 'analysis-counts-fill', type: 'fill', source: ANALYSIS_SOURCES.counts, layout: vis('counts'), paint: { 'fill-color': CHOROPLETH_COLOURS[2], 'fill-opacity': 0.75 } });
      map.addLayer({ id: 'analysis-counts-line', type: 'line', source: ANALYSIS_SOURCES.counts, layout: vis('counts'), paint: { 'line-color': '#8c6d4f', 'line-width': 0.5 } });
      map.addLayer({ id: 'analysis-emerging-fill', type: 'fill', source: ANALYSIS_SOURCES.emerging, layout: vis('emerging'), paint: { 'fill-color': matchEmerging(), 'fill-opacity': 0.75 } });
      map.addLayer({ id: 'analysis-emerging-line', type: 'line', source: ANALYSIS_SOURCES.emerging, layout: vis('emerging'), paint: { 'line-color': '#888888', 'line-width': 0.5 } });
      map.addLayer({ id: 'analysis-hotspots-fill', type: 'fill', source: ANALYSIS_SOURCES.hotspots, layout: vis('hotspots'), paint: { 'fill-color': matchBin(), 'fill-opacity': 0.8 } });
      map.addLayer({ id: 'analysis-hotspots-line', type: 'line', source: ANALYSIS_SOURCES.hotspots, layout: vis('hotspots'), paint: { 'line-color': '#999999', 'line-width': 0.5 } });
      map.addLayer({
        id: 'analysis-heatmap',
        type: 'heatmap',
        source: ANALYSIS_SOURCES.heatmap,
        layout: vis('heatmap'),
        paint: {
          'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 10, 8, 14, 20, 17, 40],
          'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 10, 0.6, 16, 1.5],
          'heatmap-opacity': 0.8,
        },
      });
      map.addLayer({
        id: 'analysis-clusters-fill',
        type: 'fill',
        source: ANALYSIS_SOURCES.clusters,
        layout: vis('clusters'),
        paint: { 'fill-color': ['match', ['%', ['to-number', ['get', 'cluster'], 0], CLUSTER_COLOURS.length], ...CLUSTER_COLOURS.flatMap((c, i) => [i, c]), '#666666'] as unknown as ExpressionSpecification, 'fill-opacity': 0.35 },
      });
      map.addLayer({ id: 'analysis-clusters-line', type: 'line', source: ANALYSIS_SOURCES.clusters, layout: vis('clusters'), paint: { 'line-color': '#333333', 'line-width': 1.5 } });
      map.addLayer({
        id: ANALYSIS_OVERLAYS.selected,
        type: 'line',
        source: ANALYSIS_SOURCES.counts,
        filter: this.selectedFilter(),
        paint: { 'line-color': '#0b5cad', 'line-width': 3 },
      });
      map.addLayer({
        id: ANALYSIS_OVERLAYS.labels,
        type: 'symbol',
        source: LABEL_SOURCE,
        minzoom: 13,
        layout: { ...vis('counts'), 'text-field': ['to-string', ['get', 'no']], 'text-size': 11, 'text-allow-overlap': false },
        paint: { 'text-color': '#3b2f25', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
      });
      this.ready = true;
      for (const args of this.paint.splice(0)) map.setPaintProperty(...args);
    });
  }

  remove(): void {
    const map = this.map;
    if (!map) return;
    this.cancelReady?.();
    this.detachOnTop?.();
    if (this.ready) {
      for (const id of ALL_LAYERS) if (map.getLayer(id)) map.removeLayer(id);
      for (const id of [...Object.values(ANALYSIS_SOURCES), LABEL_SOURCE]) if (map.getSource(id)) map.removeSource(id);
    }
    this.ready = false;
    this.map = undefined;
  }

  /** The server's answers are GeoJSON whose contract types geometry loosely (`type: string`). */
  setData(key: LayerKey, collection: { type: 'FeatureCollection'; features: unknown[] }): void {
    const data = collection as GeoJSON.FeatureCollection;
    this.data[key] = data;
    if (this.ready) void this.map?.getSource<GeoJSONSource>(ANALYSIS_SOURCES[key])?.setData(data);
  }

  setVisible(key: LayerKey, on: boolean): void {
    this.visible[key] = on;
    if (!this.ready || !this.map) return;
    for (const id of ANALYSIS_LAYERS[key]) this.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    if (key === 'counts') this.map.setLayoutProperty(ANALYSIS_OVERLAYS.labels, 'visibility', on ? 'visible' : 'none');
  }

  /** The cell numbers of the count choropleth: a point per cell at its centre with its number `no`. */
  setCellLabels(cells: Iterable<{ no: number; centre: [number, number] }>): void {
    const features = [...cells].map((c): GeoJSON.Feature => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c.centre }, properties: { no: c.no } }));
    this.labels = { type: 'FeatureCollection', features };
    if (this.ready) void this.map?.getSource<GeoJSONSource>(LABEL_SOURCE)?.setData(this.labels);
  }

  /** Outlines one unit of the counts answer (its `unit` id); null outlines none. */
  setSelected(unit: string | null): void {
    this.selected = unit;
    if (this.ready && this.map) this.map.setFilter(ANALYSIS_OVERLAYS.selected, this.selectedFilter());
  }

  private selectedFilter(): FilterSpecification {
    return this.selected === null ? NOTHING : ['==', ['get', 'unit'], this.selected];
  }

  setPaint(...args: Parameters<MapLibreMap['setPaintProperty']>): void {
    if (this.ready && this.map) this.map.setPaintProperty(...args);
    else this.paint.push(args);
  }
}
