/**
 * The shell's side panel: title and language switch, the signed-in user with sign-out, service status,
 * the role-aware menu and the area a view owns. The shell parts re-render on a language switch; the
 * view area belongs to the mounted view. Texts only through `t()`.
 */
import type { Health } from '@contracts/health';
import type { Me } from '@contracts/auth';
import { getLocale, onLocaleChange, setLocale, t, type MessageKey } from '../i18n/i18n';
import type { ViewEntry } from '../views/index';
import type { ViewId } from '../views/view';
import { button, el } from './dom';

export interface PanelState {
  health: Health | undefined;
  mapReady: boolean;
  me: Me | null;
  menu: ViewEntry[];
  active: ViewId | null;
}

export interface PanelHandlers {
  onSelectView(id: ViewId): void;
  onSignOut(): void;
}

export interface ShellPanel {
  /** Where the sign-in form or the mounted view goes. */
  body: HTMLElement;
  update(next: Partial<PanelState>): void;
}

export function mountPanel(root: HTMLElement, state: PanelState, handlers: PanelHandlers): ShellPanel {
  const header = el('header', 'panel-header');
  const session = el('section', 'panel-session');
  const nav = el('nav', 'panel-menu');
  nav.dataset.testid = 'menu';
  const body = el('section', 'panel-body');
  const status = el('footer', 'panel-status');
  root.replaceChildren(header, session, nav, body, status);

  const render = (): void => {
    header.replaceChildren(el('h1', 'panel-title', t('app.title')), el('p', 'panel-subtitle', t('app.subtitle')));
    header.append(button(t('lang.switch'), 'lang-switch', () => setLocale(getLocale() === 'zh-CN' ? 'en' : 'zh-CN'), 'lang-switch'));

    session.replaceChildren();
    if (state.me) {
      const roles = state.me.roles.map((r) => t(`role.${r}` as MessageKey)).join(t('list.separator'));
      const who = el('span', 'who', t('session.user', { name: state.me.username, roles }));
      who.dataset.testid = 'signed-in-user';
      session.append(who, button(t('session.signOut'), 'sign-out', () => handlers.onSignOut(), 'link'));
    }

    nav.replaceChildren();
    if (state.me) {
      if (state.menu.length === 0) nav.append(el('p', 'muted', t('menu.empty')));
      for (const entry of state.menu) {
        const item = button(t(entry.menuKey), `menu-${entry.id}`, () => handlers.onSelectView(entry.id), entry.id === state.active ? 'menu-item active' : 'menu-item');
        if (entry.id === state.active) item.setAttribute('aria-current', 'page');
        nav.append(item);
      }
    }

    const healthText = state.health === undefined ? t('health.checking') : state.health.status === 'ok' ? t('health.ok') : t('health.down');
    const dbLine = el('span', state.health?.status === 'ok' ? 'ok' : 'down', healthText);
    dbLine.dataset.testid = 'health';
    const mapLine = el('span', '', state.mapReady ? t('map.ready') : t('map.loading'));
    mapLine.dataset.testid = 'map-status';
    status.replaceChildren(dbLine, mapLine);
  };
  onLocaleChange(render);
  render();
  return {
    body,
    update(next) {
      Object.assign(state, next);
      render();
    },
  };
}
