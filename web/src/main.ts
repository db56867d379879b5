import type { Map as MapLibreMap } from 'maplibre-gl';
import { fetchClientConfig, fetchHealth } from './api/client';
import { setLocale } from './i18n/i18n';
import { fetchPublishedGrids } from './api/grids';
import { createMap } from './map/create-map';
import { BaseLayers } from './map/layers/base-layers';
import { boundsOf, GridsLayer } from './map/layers/grids-layer';
import { mountPanel } from './ui/panel';
import './style.css';

declare global {
  interface Window {
    /** For browser tests and debugging: the map, once created. */
    wangge?: { map: MapLibreMap };
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (params.get('lang') === 'en') setLocale('en');

  const panelRoot = document.getElementById('panel');
  const mapRoot = document.getElementById('map');
  if (!panelRoot || !mapRoot) throw new Error('index.html lacks #panel or #map');
  const panel = mountPanel(panelRoot, { health: undefined, mapReady: false });

  const config = await fetchClientConfig();
  const map = createMap({ container: mapRoot, basemapStyleUrl: config.basemapStyleUrl });
  window.wangge = { map };
  const gridsLayer = new GridsLayer();
  const baseLayers = new BaseLayers();
  map.on('load', () => {
    // The project's own base map, unless an external basemap style was configured.
    if (!config.basemapStyleUrl) baseLayers.add(map);
    document.body.dataset.mapLoaded = 'true';
    panel.update({ mapReady: true });
    void fetchPublishedGrids().then((grids) => {
      gridsLayer.add(map, grids);
      const bounds = boundsOf(grids);
      if (bounds) map.fitBounds(bounds, { padding: 40, duration: 0 });
      panel.update({ gridCount: grids.numberReturned });
      document.body.dataset.gridsLoaded = String(grids.numberReturned);
    });
  });
  panel.update({ health: await fetchHealth() });
}

void start();
