/**
 * Owns the MapLibre `Map`. The default style needs no internet: a plain background, onto which the
 * project's own layers (divisions, roads, buildings, grids) are added from the server. An external
 * basemap style URL from the server config replaces it when set.
 */
import { Map as MapLibreMap, setWorkerUrl, type LngLatBoundsLike, type StyleSpecification } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { Geometry } from 'geojson';
import { LAYER_IDS } from './ids';

// MapLibre 6 under Vite cannot find its worker by itself: without this the map never loads.
setWorkerUrl(workerUrl);

export function offlineStyle(): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: LAYER_IDS.background, type: 'background', paint: { 'background-color': '#eef0ea' } }],
  };
}

export interface CreateMapOptions {
  container: HTMLElement;
  basemapStyleUrl: string | null;
  center?: [number, number];
  zoom?: number;
  /** Start fitted to these bounds (wins over center/zoom), so the first tiles fetched are the right ones. */
  bounds?: LngLatBoundsLike;
}

export function createMap({ container, basemapStyleUrl, center = [113.62, 34.75], zoom = 12, bounds }: CreateMapOptions): MapLibreMap {
  return new MapLibreMap({
    container,
    style: basemapStyleUrl ?? offlineStyle(),
    center,
    zoom,
    ...(bounds ? { bounds, fitBoundsOptions: { padding: 40 } } : {}),
    attributionControl: { compact: true },
    // CJK labels drawn with local fonts, so Chinese text needs no glyph server.
    localIdeographFontFamily: "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
}

/** Bounds `[[w, s], [e, n]]` of any geometry's positions. */
export function boundsOf(geometry: Geometry): [[number, number], [number, number]] {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as [number, number];
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    } else if (Array.isArray(c)) for (const child of c) visit(child);
  };
  if (geometry.type === 'GeometryCollection') for (const g of geometry.geometries) visit((g as { coordinates?: unknown }).coordinates);
  else visit(geometry.coordinates);
  return [[w, s], [e, n]];
}
