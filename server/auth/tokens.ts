/**
 * Opaque bearer tokens: 32 random bytes, base64url, with a prefix naming the kind. Only their SHA-256
 * is stored, so a leaked database holds no usable token, and revoking is deleting trust in one row.
 */
import { hash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = { access: 'wga_', refresh: 'wgr_', api: 'wgt_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIX;

export function newToken(kind: TokenKind): { token: string; hash: string } {
  const token = TOKEN_PREFIX[kind] + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  // One-shot hash: no Hash object per request (it runs on every authenticated request).
  return hash('sha256', token, 'hex');
}

/** The kind of a well-formed token, or undefined for anything else (refused without a database query). */
export function tokenKind(token: string): TokenKind | undefined {
  if (!/^wg[art]_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  return (Object.keys(TOKEN_PREFIX) as TokenKind[]).find((k) => token.startsWith(TOKEN_PREFIX[k]));
}
