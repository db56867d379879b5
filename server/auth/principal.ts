/**
 * Who is asking, and what they may do. Every route declares the permission it needs (route
 * `config.permission`); services receive the Principal and narrow data to its scope; the database
 * enforces the same scope again with Row Level Security (see server/db/scoped.ts).
 *
 * Scope is a set of division or grid codes used as prefixes: a district code (6 digits) covers every
 * street, community and grid under it, a grid code (15 digits) just that grid. Codes, not ids, because
 * grid codes survive re-division while ids change with every layout.
 */

export const ROLES = ['admin', 'planner', 'dispatcher', 'grid_worker', 'community_manager', 'street_manager', 'analyst', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'divisions:read',
  'divisions:write',
  'layouts:read',
  'layouts:write',
  'layouts:publish',
  'registry:read',
  'registry:write',
  'registry:unmask',
  'registry:export',
  'staff:read',
  'staff:write',
  'dispatch:lookup',
  'events:read',
  'events:write',
  // Deciding on others' event work: approve or reject a deadline extension (the grid worker asks).
  'events:supervise',
  // The city-wide event configuration: publishing a taxonomy version (sub-types and their deadlines).
  'events:configure',
  // Aggregated event reports, grid KPIs and the event taxonomy: counts and rates, no personal data.
  'reports:read',
  'analysis:read',
  'audit:read',
  'users:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A route open to anyone (health, docs, public Open311 intake) says so explicitly. */
export type RoutePermission = Permission | 'public' | 'authenticated';

/**
 * What each role may do: the one policy table. Routes name a permission, never a role, so changing who
 * may do what is an edit here (pinned by hand-written expectations in server/auth/authorization.db.test.ts).
 * A user's roles add up; their scope (below) narrows every permission to their divisions/grids.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  // Draws and publishes grid layouts and maintains the division tree.
  planner: ['divisions:read', 'divisions:write', 'layouts:read', 'layouts:write', 'layouts:publish'],
  // Finds who is responsible for a place; staff contacts and events, never the resident registry.
  // Supervises events: in 网格化 governance the command centre (指挥中心) dispatches, follows up deadlines
  // and decides on extension requests as well as the community and street offices do.
  dispatcher: ['divisions:read', 'layouts:read', 'dispatch:lookup', 'staff:read', 'events:read', 'events:write', 'events:supervise', 'reports:read'],
  // Residents and households of their own grids (scope); sensitive fields stay masked. Works events and
  // asks for extensions, but does not supervise (approve or reject extensions): that is the offices' and
  // the command centre's, so nobody grants deadlines to their own grid's case work.
  grid_worker: ['divisions:read', 'registry:read', 'registry:write', 'staff:read', 'events:read', 'events:write', 'reports:read'],
  // Those of their community (scope), may unmask with a stated purpose and export (both audited).
  // Community (社区) and street (街道) offices supervise their grid workers' events (scope narrows it);
  // the taxonomy (events:configure) is city-wide configuration and stays with admins.
  community_manager: [
    'divisions:read', 'layouts:read', 'registry:read', 'registry:write', 'registry:unmask', 'registry:export',
    'staff:read', 'staff:write', 'dispatch:lookup', 'events:read', 'events:write', 'events:supervise', 'reports:read', 'analysis:read',
  ],
  street_manager: [
    'divisions:read', 'layouts:read', 'registry:read', 'registry:unmask', 'registry:export',
    'staff:read', 'staff:write', 'dispatch:lookup', 'events:read', 'events:write', 'events:supervise', 'reports:read', 'analysis:read',
  ],
  // Aggregates only (small counts suppressed), grid KPIs and reports; no personal data, no staff rankings.
  analyst: ['divisions:read', 'layouts:read', 'reports:read', 'analysis:read'],
  // Reads the audit log and verifies its chain; nothing else.
  auditor: ['audit:read'],
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The union of the roles' permissions. */
export function permissionsOf(roles: readonly Role[]): Set<Permission> {
  return new Set(roles.flatMap((r) => ROLE_PERMISSIONS[r]));
}

/** True when the principal holds the permission (admins hold all). */
export function can(principal: Pick<Principal, 'permissions'>, permission: Permission): boolean {
  return principal.permissions.has(permission);
}

export interface Scope {
  /** True for roles that see everything (admin, city-wide analysts of aggregates). */
  all: boolean;
  /** Division codes (6/9/12 digits) and grid codes (15 digits), each covering what starts with it. */
  prefixes: string[];
}

export interface Principal {
  kind: 'user' | 'token' | 'anonymous';
  userId: number | null;
  username: string | null;
  roles: Role[];
  permissions: ReadonlySet<Permission>;
  scope: Scope;
  /** The session (kind 'user') or API token (kind 'token') the request authenticated with. */
  sessionId?: number;
  tokenId?: number;
  /** A user with a one-time or reset password may only change it (and read /auth/me, sign out). */
  mustChangePassword?: boolean;
}

export const ANONYMOUS: Principal = {
  kind: 'anonymous',
  userId: null,
  username: null,
  roles: [],
  permissions: new Set(),
  scope: { all: false, prefixes: [] },
};

/** True when `code` (a division, grid or row code) lies inside the principal's scope. */
export function inScope(scope: Scope, code: string | null | undefined): boolean {
  if (scope.all) return true;
  if (!code) return false;
  return scope.prefixes.some((p) => code.startsWith(p));
}

/** True when `inner` is inside `outer`: every prefix of inner starts with some prefix of outer. */
export function scopeWithin(inner: Scope, outer: Scope): boolean {
  if (outer.all) return true;
  if (inner.all) return false;
  return inner.prefixes.every((p) => outer.prefixes.some((o) => p.startsWith(o)));
}
