/**
 * Every client error caused by something in the request says where (`details.in`, and `details.field`
 * when one field is to blame): "bad input always gets a clear error (code, message, where)".
 *
 * This reads the server's source with the TypeScript type checker and finds every `new AppError(…)`
 * and `notFound(…)` with a 4xx status. Its details must be of a type with a required `in` property (a
 * literal `in:`, a spread of PATH_ID / IF_MATCH / a required `where` parameter, or a `Where` as is), and
 * the `in` values it spells out must be request parts.
 * The exceptions are listed below, each with its reason, so a new input-caused error without a where
 * fails here until it gets one (or a reviewed entry). The HTTP side — that real requests get these
 * details — is server/http/domain-errors.db.test.ts.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { fieldOfProblem } from './errors';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * `file code` → how many errors of that code in that file name no input, and why. Errors about who
 * asks (credentials, permissions, limits), not about any part of what they sent. The count makes a new
 * one in a listed file a decision too.
 */
const NO_WHERE: Record<string, [count: number, reason: string]> = {
  'server/auth/authenticate.ts UNAUTHENTICATED': [1, 'the credentials as a whole (a missing, malformed or revoked bearer token)'],
  'server/auth/authenticate.ts TOKEN_EXPIRED': [1, 'the bearer token has expired: who asks, not what was sent'],
  'server/auth/request-auth.ts UNAUTHENTICATED': [2, 'not signed in'],
  'server/auth/request-auth.ts PASSWORD_CHANGE_REQUIRED': [1, 'the account must change its one-time password first'],
  'server/auth/request-auth.ts FORBIDDEN': [2, "the route's permission, which the caller's roles lack"],
  'server/http/rate-limit.ts RATE_LIMITED': [1, 'too many requests, whatever they hold'],
  'server/modules/registry/registry-access.ts FORBIDDEN': [1, 'requirePermission: a permission the roles lack (the scope refusal beside it takes a where)'],
  'server/modules/users/auth.service.ts UNAUTHENTICATED': [2, 'not signed in (the refresh refusals in the same file do name refreshToken)'],
  'server/modules/users/auth.service.ts INVALID_CREDENTIALS': [1, 'sign-in does not say whether the username or the password was wrong (the change-password one names currentPassword)'],
  'server/modules/users/auth.service.ts RATE_LIMITED': [1, 'too many failed sign-ins from the address'],
  'server/modules/users/auth.service.ts ACCOUNT_LOCKED': [1, 'the account is locked for a while'],
  'server/modules/users/auth.service.ts FORBIDDEN': [2, 'only a signed-in session (not an API token) may sign out or change its password'],
  'server/modules/users/api-token.service.ts FORBIDDEN': [1, 'API tokens are managed by signed-in users (the roles refusal beside it names roles)'],
  'server/modules/events/event.service.ts FORBIDDEN': [3, 'who acts: the handler may not verify their own result, the requester not approve their own extension; the taxonomy needs city-wide scope'],
  'server/modules/ogc/ogc.service.ts UNAUTHENTICATED': [1, 'a restricted collection needs signing in'],
  'server/modules/ogc/ogc.service.ts FORBIDDEN': [1, "a restricted collection needs a permission the caller's roles lack"],
};

function serverFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test') out.push(...serverFiles(full));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

interface Construction {
  at: string;
  key: string;
  status: number | undefined;
  hasWhere: boolean;
  /** The `in` values the details can hold, where the source spells them out (literals). */
  parts: string[];
  text: string;
}

/** What `details.in` may say (RequestPart in errors.ts). */
const REQUEST_PARTS = ['body', 'querystring', 'params', 'headers', 'url'];

function constructions(): Construction[] {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = serverFiles(path.join(ROOT, 'server'));
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const found: Construction[] = [];

  const hasIn = (node: ts.Expression): boolean => {
    const type = checker.getTypeAtLocation(node);
    const types = type.isUnion() ? type.types : [type];
    // Every branch of a conditional details object must say where, and not just maybe (`in?:`).
    return types.every((t) => {
      const where = t.getProperty('in');
      return where !== undefined && (where.flags & ts.SymbolFlags.Optional) === 0;
    });
  };

  // The `in` values a details expression can hold: the literal types the checker knows of its `in`
  // property, and string literals written as `in: '…'` anywhere in it (an object literal handed to an
  // `unknown` parameter is widened to string, so its types alone would let a typo through).
  const partsOf = (node: ts.Expression): string[] => {
    const parts: string[] = [];
    const type = checker.getTypeAtLocation(node);
    for (const t of type.isUnion() ? type.types : [type]) {
      const where = t.getProperty('in');
      if (!where) continue;
      const inType = checker.getTypeOfSymbolAtLocation(where, node);
      for (const it of inType.isUnion() ? inType.types : [inType]) if (it.isStringLiteral()) parts.push(it.value);
    }
    const walk = (n: ts.Node): void => {
      if (ts.isPropertyAssignment(n) && n.name.getText() === 'in' && ts.isStringLiteral(n.initializer)) parts.push(n.initializer.text);
      ts.forEachChild(n, walk);
    };
    walk(node);
    return parts;
  };

  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    const rel = path.relative(ROOT, file).split(path.sep).join('/');
    const visit = (node: ts.Node): void => {
      let args: readonly ts.Expression[] | undefined;
      let status: number | undefined;
      let detailsAt = 3;
      if (ts.isNewExpression(node) && node.expression.getText(source) === 'AppError') {
        args = node.arguments ?? [];
        const s = args[1];
        status = s && ts.isNumericLiteral(s) ? Number(s.text) : undefined;
      } else if (ts.isCallExpression(node) && node.expression.getText(source) === 'notFound') {
        args = node.arguments;
        status = 404;
        detailsAt = 2;
      }
      if (args) {
        const codeArg = args[0];
        const code = codeArg && ts.isStringLiteral(codeArg) ? codeArg.text : (codeArg?.getText(source) ?? '?');
        const details = args[detailsAt];
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push({
          at: `${rel}:${line + 1}`,
          key: `${rel} ${code}`,
          status,
          hasWhere: details !== undefined && hasIn(details),
          parts: details === undefined ? [] : partsOf(details),
          text: node.getText(source).replace(/\s+/g, ' ').slice(0, 140),
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('client errors say where', () => {
  const all = constructions();

  it('finds the errors of the server (the scan is not blind)', () => {
    expect(all.length).toBeGreaterThan(150);
    // The scan sees a where through a spread constant, a parameter and a helper's literal alike.
    expect(all.some((c) => c.key === 'server/modules/grids/grid.service.ts GRID_NOT_FOUND' && c.hasWhere)).toBe(true);
    expect(all.some((c) => c.key === 'server/modules/layouts/layout.service.ts LAYOUT_NOT_FOUND' && c.hasWhere)).toBe(true);
  });

  it('every AppError has a literal status, so its class is known', () => {
    expect(all.filter((c) => c.status === undefined).map((c) => `${c.at} ${c.text}`)).toEqual([]);
  });

  it('every 4xx names where in the request it lies, unless listed with a reason', () => {
    const missing = all.filter((c) => c.status !== undefined && c.status >= 400 && c.status < 500 && !c.hasWhere && NO_WHERE[c.key] === undefined);
    expect(missing.map((c) => `${c.at} ${c.text}`)).toEqual([]);
  });

  it('says where with one of the request parts (a typo such as "query" fails here)', () => {
    expect(all.filter((c) => c.parts.length > 0).length).toBeGreaterThan(100);
    const wrong = all.flatMap((c) => c.parts.filter((p) => !REQUEST_PARTS.includes(p)).map((p) => `${c.at} in: '${p}'`));
    expect(wrong).toEqual([]);
  });

  it('the listed exceptions are exactly the errors without a where (none added, none gone)', () => {
    const without = new Map<string, number>();
    for (const c of all) if (c.status !== undefined && c.status >= 400 && c.status < 500 && !c.hasWhere) without.set(c.key, (without.get(c.key) ?? 0) + 1);
    const listed = Object.fromEntries(Object.entries(NO_WHERE).map(([key, [count]]) => [key, count]));
    expect(Object.fromEntries(without)).toEqual(listed);
  });
});

describe('schema failures name their field the same way', () => {
  it('turns the JSON Pointer of the first problem into a field', () => {
    expect(fieldOfProblem({ instancePath: '/features/0/geometry', params: { type: 'object' } })).toBe('features/0/geometry');
    expect(fieldOfProblem({ instancePath: '/code', params: { pattern: '^[0-9]{12}$' } })).toBe('code');
  });

  it('names a missing or unexpected property under its parent', () => {
    expect(fieldOfProblem({ instancePath: '', params: { missingProperty: 'name' } })).toBe('name');
    expect(fieldOfProblem({ instancePath: '/properties', params: { additionalProperty: 'a/b' } })).toBe('properties/a~1b');
  });

  it('has no field when the whole part is at fault', () => {
    expect(fieldOfProblem({ instancePath: '', params: { type: 'object' } })).toBeUndefined();
    expect(fieldOfProblem(undefined)).toBeUndefined();
  });
});
