/**
 * Owns the MapLibre `Map`. The default style needs no internet: a plain background, onto which the
 * project's own layers (divisions, roads, buildings, grids) are added from the server. An external
 * basemap style URL from the server config replaces it when set.
 */
import { Map as MapLibreMap, setWorkerUrl, type StyleSpecification } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
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
}

export function createMap({ container, basemapStyleUrl, center = [113.62, 34.75], zoom = 12 }: CreateMapOptions): MapLibreMap {
  return new MapLibreMap({
    container,
    style: basemapStyleUrl ?? offlineStyle(),
    center,
    zoom,
    attributionControl: { compact: true },
    // CJK labels drawn with local fonts, so Chinese text needs no glyph server.
    localIdeographFontFamily: "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
}
