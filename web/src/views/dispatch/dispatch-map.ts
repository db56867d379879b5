/**
 * The dispatch view's map layers: the looked-up grid (highlight), the looked-up point and the listed
 * events coloured by deadline status. `add` attaches sources, layers and handlers; `remove` detaches
 * exactly those (STYLE.md §7), so the shell's map is left as it was.
 */
import type { GeoJSONSource, Map as MapLibreMap, MapLayerMouseEvent, MapMouseEvent } from 'maplibre-gl';
import type { Event } from '@contracts/events';
import type { GridFeature } from '@contracts/grid';
import { DEADLINE_COLOURS, deadlineStatus } from './deadline';
import { keepOnTop, whenStyleReady } from './dom';

export const DISPATCH_SOURCES = { grid: 'dispatch-grid', point: 'dispatch-point', events: 'dispatch-events' } as const;
export const DISPATCH_LAYERS = {
  gridFill: 'dispatch-grid-fill',
  gridLine: 'dispatch-grid-line',
  events: 'dispatch-events',
  point: 'dispatch-point',
} as const;

const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

export interface DispatchMapHandlers {
  /** A click on the map away from an event marker. */
  onMapClick(lon: number, lat: number): void;
  onEventClick(id: number): void;
}

export class DispatchLayers {
  private map: MapLibreMap | undefined;
  private cancelReady: (() => void) | undefined;
  private ready = false;
  private detachOnTop: (() => void) | undefined;
  private pending: { grid?: GeoJSON.FeatureCollection; point?: GeoJSON.FeatureCollection; events?: GeoJSON.FeatureCollection } = {};

  private readonly onClick = (e: MapMouseEvent): void => {
    const map = this.map;
    if (!map) return;
    const hit = this.ready ? map.queryRenderedFeatures(e.point, { layers: [DISPATCH_LAYERS.events] })[0] : undefined;
    const id = hit?.properties?.id as number | undefined;
    if (id !== undefined) this.handlers.onEventClick(Number(id));
    else this.handlers.onMapClick(e.lngLat.lng, e.lngLat.lat);
  };
  private readonly onEnter = (_e: MapLayerMouseEvent): void => {
    if (this.map) this.map.getCanvas().style.cursor = 'pointer';
  };
  private readonly onLeave = (): void => {
    if (this.map) this.map.getCanvas().style.cursor = 'crosshair';
  };

  constructor(private readonly handlers: DispatchMapHandlers) {}

  add(map: MapLibreMap): void {
    this.map = map;
    map.getCanvas().style.cursor = 'crosshair';
    map.on('click', this.onClick);
    this.detachOnTop = keepOnTop(map, Object.values(DISPATCH_LAYERS));
    this.cancelReady = whenStyleReady(map, () => {
      map.addSource(DISPATCH_SOURCES.grid, { type: 'geojson', data: this.pending.grid ?? EMPTY });
      map.addSource(DISPATCH_SOURCES.events, { type: 'geojson', data: this.pending.events ?? EMPTY });
      map.addSource(DISPATCH_SOURCES.point, { type: 'geojson', data: this.pending.point ?? EMPTY });
      map.addLayer({ id: DISPATCH_LAYERS.gridFill, type: 'fill', source: DISPATCH_SOURCES.grid, paint: { 'fill-color': '#ff7f0e', 'fill-opacity': 0.25 } });
      map.addLayer({ id: DISPATCH_LAYERS.gridLine, type: 'line', source: DISPATCH_SOURCES.grid, paint: { 'line-color': '#d35400', 'line-width': 3 } });
      map.addLayer({
        id: DISPATCH_LAYERS.events,
        type: 'circle',
        source: DISPATCH_SOURCES.events,
        paint: {
          'circle-radius': ['case', ['boolean', ['get', 'selected'], false], 9, 6],
          'circle-color': ['match', ['get', 'status'], 'overdue', DEADLINE_COLOURS.overdue, 'due_soon', DEADLINE_COLOURS.due_soon, 'done', DEADLINE_COLOURS.done, DEADLINE_COLOURS.on_time],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 1.5,
        },
      });
      map.addLayer({
        id: DISPATCH_LAYERS.point,
        type: 'circle',
        source: DISPATCH_SOURCES.point,
        paint: { 'circle-radius': 7, 'circle-color': '#1f5fbf', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
      });
      map.on('mouseenter', DISPATCH_LAYERS.events, this.onEnter);
      map.on('mouseleave', DISPATCH_LAYERS.events, this.onLeave);
      this.ready = true;
    });
  }

  remove(): void {
    const map = this.map;
    if (!map) return;
    this.cancelReady?.();
    map.off('click', this.onClick);
    this.detachOnTop?.();
    if (this.ready) {
      map.off('mouseenter', DISPATCH_LAYERS.events, this.onEnter);
      map.off('mouseleave', DISPATCH_LAYERS.events, this.onLeave);
      for (const id of Object.values(DISPATCH_LAYERS)) if (map.getLayer(id)) map.removeLayer(id);
      for (const id of Object.values(DISPATCH_SOURCES)) if (map.getSource(id)) map.removeSource(id);
    }
    map.getCanvas().style.cursor = '';
    this.ready = false;
    this.map = undefined;
  }

  showGrid(grid: GridFeature | null): void {
    this.set('grid', { type: 'FeatureCollection', features: grid ? [grid as unknown as GeoJSON.Feature] : [] });
  }

  showPoint(position: [number, number] | null): void {
    this.set('point', { type: 'FeatureCollection', features: position ? [{ type: 'Feature', geometry: { type: 'Point', coordinates: position }, properties: {} }] : [] });
  }

  showEvents(events: readonly Event[], selectedId: number | null, now: number): void {
    this.set('events', {
      type: 'FeatureCollection',
      features: events.map((e) => ({
        type: 'Feature',
        geometry: e.location,
        properties: { id: e.id, status: deadlineStatus(e, now), selected: e.id === selectedId },
      })),
    });
  }

  private set(key: 'grid' | 'point' | 'events', data: GeoJSON.FeatureCollection): void {
    this.pending[key] = data;
    if (this.ready) void this.map?.getSource<GeoJSONSource>(DISPATCH_SOURCES[key])?.setData(data);
  }
}
