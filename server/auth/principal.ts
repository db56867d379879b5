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
  'analysis:read',
  'audit:read',
  'users:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A route open to anyone (health, docs, public Open311 intake) says so explicitly. */
export type RoutePermission = Permission | 'public' | 'authenticated';

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
