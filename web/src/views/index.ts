/**
 * The view registry. Each entry names the roles offered the view in the menu and how to load its code:
 * views are separate chunks (dynamic import), so the first page load carries only the shell.
 * The roles here must match the `roles` of the view object itself; the router checks both.
 */
import type { Me } from '@contracts/auth';
import type { MessageKey } from '../i18n/i18n';
import type { View, ViewId } from './view';

type Role = Me['roles'][number];

export interface ViewEntry {
  id: ViewId;
  menuKey: MessageKey;
  roles: readonly Role[];
  /** A view with no use for the map (a table): the shell hides the map and gives the panel the width. */
  mapless?: boolean;
  load(): Promise<View>;
}

export const VIEWS: readonly ViewEntry[] = [
  { id: 'editor', menuKey: 'editor.menu', roles: ['planner'], load: () => import('./editor/index').then((m) => m.view) },
  { id: 'dispatch', menuKey: 'dispatch.menu', roles: ['dispatcher', 'community_manager', 'street_manager'], load: () => import('./dispatch/index').then((m) => m.view) },
  { id: 'analysis', menuKey: 'analysis.menu', roles: ['analyst', 'community_manager', 'street_manager'], load: () => import('./analysis/index').then((m) => m.view) },
  { id: 'mygrids', menuKey: 'mygrids.menu', roles: ['grid_worker'], load: () => import('./mygrids/index').then((m) => m.view) },
  { id: 'audit', menuKey: 'audit.menu', roles: ['auditor'], mapless: true, load: () => import('./audit/index').then((m) => m.view) },
];

/** Whether a user with these roles is offered a view: admin sees every view. */
export function mayUse(roles: readonly string[], allowed: readonly string[]): boolean {
  return roles.includes('admin') || roles.some((r) => allowed.includes(r));
}

export function viewsFor(roles: readonly string[]): ViewEntry[] {
  return VIEWS.filter((v) => mayUse(roles, v.roles));
}
