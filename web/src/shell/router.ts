/**
 * Mounts one view at a time into the panel body with the shared map. Switching views (or signing out,
 * or switching language) unmounts the current one first, so the map is back as the shell left it. The
 * current view id lives in the URL (`view=`), so a reload mounts the same view with the same state.
 * A view the registry marks `mapless` (a table) gets the whole window: the body's `mapless` class hides
 * the map (style.css) while it is mounted.
 */
import type { Map as MapLibreMap } from 'maplibre-gl';
import type { Me } from '@contracts/auth';
import { t } from '../i18n/i18n';
import { el } from '../ui/dom';
import { mayUse, VIEWS } from '../views/index';
import type { UrlState, ViewId } from '../views/view';
import { errorText } from '../api/error-text';

export interface RouterDeps {
  map: MapLibreMap;
  area: HTMLElement;
  url: UrlState;
  me(): Me | null;
  token(): string | null;
}

export class Router {
  private unmount: (() => void) | null = null;
  private current: ViewId | null = null;
  /** Bumped on every navigation: a slow view chunk that arrives late is not mounted. */
  private generation = 0;

  constructor(private readonly deps: RouterDeps) {}

  get active(): ViewId | null {
    return this.current;
  }

  async show(id: ViewId): Promise<void> {
    const generation = ++this.generation;
    this.clear();
    const me = this.deps.me();
    const token = this.deps.token();
    const entry = VIEWS.find((v) => v.id === id);
    if (!me || !token || !entry) return;
    this.setMapless(entry.mapless === true);
    this.current = id;
    this.deps.url.set({ view: id });
    const container = el('div', `view view-${id}`);
    container.dataset.testid = `view-${id}`;
    this.deps.area.append(container);
    try {
      const view = await entry.load();
      if (generation !== this.generation) return;
      if (!mayUse(me.roles, view.roles)) {
        container.append(el('p', 'error', t('view.forbidden')));
        return;
      }
      this.unmount = view.mount({ map: this.deps.map, panel: container, url: this.deps.url, me, token });
    } catch (err) {
      if (generation !== this.generation) return;
      container.append(el('p', 'error', t('view.loadFailed', { message: errorText(err) })));
    }
  }

  /** Mounts the current view again (after a language switch: its state is in the URL). */
  async remount(): Promise<void> {
    if (this.current) await this.show(this.current);
  }

  /** Unmounts the current view and empties its area. */
  clear(): void {
    const unmount = this.unmount;
    this.unmount = null;
    this.current = null;
    unmount?.();
    this.deps.area.replaceChildren();
    this.setMapless(false);
  }

  private setMapless(on: boolean): void {
    if (document.body.classList.contains('mapless') === on) return;
    document.body.classList.toggle('mapless', on);
    // Shown again: the map's canvas takes its container's size at the next frame (after this view's
    // layout), also when the window changed size while the map was hidden.
    if (!on) requestAnimationFrame(() => {
      if (!document.body.classList.contains('mapless')) this.deps.map.resize();
    });
  }
}
