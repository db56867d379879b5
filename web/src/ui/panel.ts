/** The side panel: title, language switch and service status. Texts only through `t()`. */
import type { Health } from '@contracts/health';
import { getLocale, onLocaleChange, setLocale, t } from '../i18n/i18n';

export interface PanelState {
  health: Health | undefined;
  mapReady: boolean;
  gridCount?: number;
}

export function mountPanel(root: HTMLElement, state: PanelState): { update(next: Partial<PanelState>): void } {
  const render = (): void => {
    const healthText = state.health === undefined ? t('health.checking') : state.health.status === 'ok' ? t('health.ok') : t('health.down');
    root.innerHTML = '';
    const header = el('header', 'panel-header');
    header.append(el('h1', 'panel-title', t('app.title')), el('p', 'panel-subtitle', t('app.subtitle')));
    const lang = el('button', 'lang-switch', t('lang.switch'));
    lang.dataset.testid = 'lang-switch';
    lang.addEventListener('click', () => setLocale(getLocale() === 'zh-CN' ? 'en' : 'zh-CN'));
    header.append(lang);
    const status = el('section', 'panel-status');
    status.append(el('h2', '', t('panel.status')));
    const dbLine = el('p', state.health?.status === 'ok' ? 'ok' : 'down', healthText);
    dbLine.dataset.testid = 'health';
    const mapLine = el('p', '', state.mapReady ? t('map.ready') : t('map.loading'));
    mapLine.dataset.testid = 'map-status';
    status.append(dbLine, mapLine);
    if (state.gridCount !== undefined) {
      const grids = el('p', '', `${t('grids.published')}: ${state.gridCount}`);
      grids.dataset.testid = 'grid-count';
      status.append(grids);
    }
    root.append(header, status);
  };
  onLocaleChange(render);
  render();
  return {
    update(next) {
      Object.assign(state, next);
      render();
    },
  };
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
