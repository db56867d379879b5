/**
 * Which grids are "mine": the published grids whose code lies under a prefix of the user's scope (a
 * grid code is its community's 12-digit code plus 3 digits, so a grid worker scoped to one grid, or to
 * a whole community, is covered the same way). The view fetches the grids around the divisions its
 * scope names and keeps those.
 */
import type { Me } from '@contracts/auth';

/**
 * The divisions whose boundaries contain every grid of the scope: a grid code's community, a division
 * code itself; codes under another one left out. Null: the scope is everything (no division to ask).
 *
 * @example divisionsOfScope({ all: false, prefixes: ['410199001001003', '410199001001'] }) // ['410199001001']
 */
export function divisionsOfScope(scope: Me['scope']): string[] | null {
  if (scope.all) return null;
  const codes = [...new Set(scope.prefixes.map((p) => (p.length > 12 ? p.slice(0, 12) : p)))].sort((a, b) => a.length - b.length || a.localeCompare(b));
  return codes.filter((c, i) => !codes.slice(0, i).some((shorter) => c !== shorter && c.startsWith(shorter)));
}

/** Whether a grid code lies in the scope. */
export function gridInScope(scope: Me['scope'], code: string | null): boolean {
  if (scope.all) return code !== null;
  return code !== null && scope.prefixes.some((p) => code.startsWith(p));
}

/** "12", or "500+" when a page of `limit` came back full with more behind it. */
export function countText(shown: number, more: boolean): string {
  return more ? `${shown}+` : String(shown);
}
