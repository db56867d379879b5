/**
 * The shell: one MapLibre map, the side panel, sign-in and the URL. Views (editor, dispatch, analysis)
 * are loaded on demand and mounted by the router with the shared map (views/view.ts).
 */
import type { Map as MapLibreMap } from 'maplibre-gl';
import type { Me } from '@contracts/auth';
import type { DivisionDetail } from '@contracts/division';
import type { Geometry } from 'geojson';
import { fetchClientConfig, fetchHealth, getJson } from './api/client';
import { mountSignInForm } from './auth/sign-in-form';
import { currentToken, currentUser, onSessionChange, restoreSession, signOut } from './auth/session';
import { getLocale, onLocaleChange, setLocale, t } from './i18n/i18n';
import { boundsOf, createMap } from './map/create-map';
import { BaseLayers } from './map/layers/base-layers';
import { PublishedGridsLayer } from './map/layers/published-grids-layer';
import { Router } from './shell/router';
import { formatMapPosition, LocationUrlState, parseMapPosition } from './shell/url-state';
import { mountPanel } from './ui/panel';
import { viewsFor } from './views/index';
import type { ViewId } from './views/view';
import './style.css';

declare global {
  interface Window {
    /** For browser tests and debugging: the map, once created. */
    wangge?: { map: MapLibreMap };
  }
}

const url = new LocationUrlState();

async function start(): Promise<void> {
  if (url.get('lang') === 'en') setLocale('en');
  const panelRoot = document.getElementById('panel');
  const mapRoot = document.getElementById('map');
  if (!panelRoot || !mapRoot) throw new Error('index.html lacks #panel or #map');

  // Created once the map exists; the panel's handlers are wired before that.
  const shell: { router?: Router } = {};
  let signingOut = false;
  const panel = mountPanel(
    panelRoot,
    { health: undefined, mapReady: false, me: null, menu: [], active: null },
    {
      onSelectView: (id) => void shell.router?.show(id).then(() => panel.update({ active: shell.router?.active ?? null })),
      onSignOut: () => {
        signingOut = true;
        void signOut().finally(() => (signingOut = false));
      },
    },
  );
  void fetchHealth().then((health) => panel.update({ health }));

  // Everything the first frame needs, at once: settings, where to look, and the session of this tab.
  const position = parseMapPosition(url.get('at'));
  const [config, bounds, restored] = await Promise.all([fetchClientConfig(), position ? undefined : initialBounds(url.get('community')), restoreSession()]);
  const map = createMap({ container: mapRoot, basemapStyleUrl: config.basemapStyleUrl, ...(position ?? {}), ...(bounds ? { bounds } : {}) });
  window.wangge = { map };
  const router = new Router({ map, area: panel.body, url, me: currentUser, token: currentToken });
  shell.router = router;

  map.on('moveend', () => {
    const c = map.getCenter();
    url.set({ at: formatMapPosition(c.lng, c.lat, map.getZoom()) });
  });
  const mapLoaded = new Promise<void>((resolve) => map.once('load', () => resolve()));
  void mapLoaded.then(() => {
    // The project's own base map and published grids, unless an external basemap style was configured
    // (then the grids still come from here, on top of it).
    if (!config.basemapStyleUrl) new BaseLayers().add(map);
    new PublishedGridsLayer().add(map);
    document.body.dataset.mapLoaded = 'true';
    panel.update({ mapReady: true });
  });

  let closeSignIn: (() => void) | null = null;
  const showSignIn = (notice?: string): void => {
    router.clear();
    closeSignIn?.();
    panel.update({ me: null, menu: [], active: null });
    closeSignIn = mountSignInForm(panel.body, () => undefined, notice);
  };
  const enter = async (me: Me): Promise<void> => {
    closeSignIn?.();
    closeSignIn = null;
    const menu = viewsFor(me.roles);
    panel.update({ me, menu });
    const wanted = url.get('view') as ViewId | null;
    const target = menu.find((v) => v.id === wanted) ?? menu[0];
    // Fetch the view's code while the map loads.
    void target?.load().catch(() => undefined);
    await mapLoaded;
    if (target) await router.show(target.id);
    panel.update({ active: router.active ?? null });
  };

  let signedIn = false;
  onSessionChange((me) => {
    // A one-time password is changed in the sign-in panel first; the app opens after that refresh.
    if (me && !signedIn && !me.mustChangePassword) {
      signedIn = true;
      void enter(me);
    } else if (!me && signedIn) {
      signedIn = false;
      // Signing out is asked for; anything else (a refused refresh) means the session ran out.
      showSignIn(signingOut ? undefined : t('session.expired'));
    }
  });
  onLocaleChange(() => {
    url.set({ lang: getLocale() === 'en' ? 'en' : null });
    if (currentUser()) void router.remount();
    else if (closeSignIn) showSignIn();
  });

  if (restored && !restored.mustChangePassword) {
    signedIn = true;
    await enter(restored);
  } else {
    showSignIn();
  }
}

/**
 * Where the map starts when the URL names no position: the community the URL names, else the extent of
 * the published grids (or the divisions) from TileJSON — decided before the map exists, so the first
 * tiles fetched are the ones shown.
 */
async function initialBounds(community: string | null): Promise<[[number, number], [number, number]] | undefined> {
  if (community && /^[0-9]{12}$/.test(community)) {
    const detail = await getJson<DivisionDetail>(`/api/v1/divisions/${community}`).catch(() => undefined);
    if (detail?.boundary) return boundsOf(detail.boundary as Geometry);
  }
  for (const layer of ['grids', 'divisions']) {
    const tileJson = await getJson<{ bounds?: [number, number, number, number] }>(`/tiles/${layer}.json`).catch(() => undefined);
    const b = tileJson?.bounds;
    if (b && b[2] - b[0] < 10) return [[b[0], b[1]], [b[2], b[3]]];
  }
  return undefined;
}

void start();
