import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { type CompiledEntry, compileEntries, ENTRIES, ENTRY_NAMES, type EntryName, ROOT } from '../support/public-entries';

/**
 * The library's public face is a decision: each entry exports exactly what docs/library-api.md
 * lists (values at runtime, values and types to the compiler), nothing internal is among them, and
 * the project's own apps and runtime import the library through these entries only.
 */

/**
 * Internals no entry may hand out: the write ports (a change with no audit entry), the audit
 * recorder (arbitrary rows in the append-only trail), the revocation service and the audit trail
 * that write behind the commands, the resolved options (the signing secret),
 * cache and recovery internals, the TypeORM schema, the host's own pieces (health controller,
 * rate-limit guard, Redis connection) and the removed benchmark switch.
 */
const FORBIDDEN = [
  'SESSION_STORE',
  'SessionStore',
  'SessionTransaction',
  'UNIT_OF_WORK',
  'UnitOfWork',
  'Transaction',
  'USER_ACCOUNTS',
  'UserAccounts',
  'SESSION_RECORDS',
  'SessionRecords',
  'REVOKED_SESSIONS',
  'RevokedSessions',
  'CACHE_MARKER_OUTBOX',
  'CacheMarkerOutbox',
  'SessionRevocations',
  'AuditTrail',
  'SESSION_CACHE',
  'SessionCache',
  'AUDIT_LOG',
  'AuditLog',
  'AuditRecorder',
  'LOGIN_ATTEMPTS',
  'LoginAttempts',
  'PASSWORD_HASHER',
  'ACCESS_TOKENS',
  'INSTANCE_REGISTRY',
  'CLOCK',
  'AdminBootstrapper',
  'SESSIONS_OPTIONS',
  'ResolvedSessionsOptions',
  'resolveSessionsOptions',
  'ReconcilingSessionCache',
  'InterruptedOperations',
  'PROCESS_INSTANCE_ID',
  'HealthController',
  'SessionsHealthProbe',
  'RateLimitGuard',
  'RateLimited',
  'AuthCheckMode',
  'authCheck',
  'SESSIONS_ENTITIES',
  'SESSIONS_MIGRATIONS',
  'createRedisCacheStores',
  'redisClientOf',
  'connectRedis',
  'SESSIONS_SCHEMA',
  'SessionsSchemaMigrator',
  'DEFAULT_LIFETIMES',
  'DEFAULT_LOGIN_LOCKOUT',
  'DEFAULT_PASSWORD_HASHING',
];

interface Documented {
  readonly values: string[];
  readonly types: string[];
}

/** `## \`@app/sessions...\`` starts an entry; `- \`Name\`` and `- \`type Name\`` are its exports. */
function documentedExports(): Record<string, Documented> {
  const text = readFileSync(path.join(ROOT, 'docs/library-api.md'), 'utf8');
  const entries: Record<string, { values: string[]; types: string[] }> = {};
  let current: { values: string[]; types: string[] } | undefined;
  for (const line of text.split('\n')) {
    const heading = /^## `(@app\/sessions[^`]*)`\s*$/.exec(line);
    if (heading) {
      current = entries[heading[1]] = { values: [], types: [] };
      continue;
    }
    const item = /^- `(type )?([A-Za-z_$][\w$]*)`/.exec(line);
    if (item && current) (item[1] ? current.types : current.values).push(item[2]);
  }
  return entries;
}

describe('the public entries', () => {
  const documented = documentedExports();

  it('are the ones documented', () => {
    expect(Object.keys(documented).sort()).toEqual(Object.keys(ENTRIES).sort());
  });

  it.each(ENTRY_NAMES)('%s exports at runtime exactly the values docs/library-api.md lists', (name) => {
    expect(Object.keys(ENTRIES[name].module).sort()).toEqual([...documented[name].values].sort());
  });

  describe('to the compiler', () => {
    let compiled: Record<EntryName, CompiledEntry>;
    beforeAll(() => {
      compiled = compileEntries();
    }, 60_000);

    it.each(ENTRY_NAMES)('%s exports exactly the values and types docs/library-api.md lists', (name) => {
      expect({ values: compiled[name].values, types: compiled[name].types }).toEqual({
        values: [...documented[name].values].sort(),
        types: [...documented[name].types].sort(),
      });
    });

    it('hand out no internal', () => {
      const exported = Object.values(compiled).flatMap((entry) => [...entry.values, ...entry.types]);
      expect(exported.filter((name) => FORBIDDEN.includes(name))).toEqual([]);
    });
  });

  it('document each export once', () => {
    for (const [name, entry] of Object.entries(documented)) {
      const all = [...entry.values, ...entry.types];
      expect({ name, duplicates: all.filter((item, index) => all.indexOf(item) !== index) }).toEqual({ name, duplicates: [] });
    }
  });
});

/** The project's own hosts use the library as any other would: through its public entries. */
describe('imports of the library by the apps and the runtime', () => {
  function sourceFiles(dir: string): string[] {
    return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
      const relative = path.join(dir, name);
      if (statSync(path.join(ROOT, relative)).isDirectory()) return sourceFiles(relative);
      return relative.endsWith('.ts') && !relative.endsWith('.spec.ts') ? [relative] : [];
    });
  }

  it('never reach past the public entries', () => {
    const deep: string[] = [];
    for (const file of [...sourceFiles('src'), ...sourceFiles('apps'), ...sourceFiles('libs/runtime/src')]) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
        const target = specifier.startsWith('.') ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)) : specifier;
        const intoLibrary = target.startsWith('libs/sessions/') || (specifier.startsWith('@app/sessions') && !(specifier in ENTRIES));
        if (intoLibrary) deep.push(`${file} -> ${specifier}`);
      }
    }
    expect(deep).toEqual([]);
  });
});

/**
 * Optional peers stay optional: the packages only a subpath entry needs are never loaded by the
 * main entry. Follows the imports that survive compilation (not `import type`) from index.ts.
 */
describe('the main entry', () => {
  const OPTIONAL_PEERS = ['@nestjs/terminus', '@nestjs/throttler', '@nestjs/swagger', 'cache-manager-redis-yet'];

  function loadedPackages(entry: string): Map<string, string> {
    const packages = new Map<string, string>();
    const seen = new Set<string>();
    const queue = [path.join(ROOT, entry)];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      for (const statement of source.statements) {
        if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) || !statement.moduleSpecifier) continue;
        if (ts.isImportDeclaration(statement)) {
          const clause = statement.importClause;
          if (clause?.isTypeOnly) continue;
          const named = clause?.namedBindings;
          if (clause && !clause.name && named && ts.isNamedImports(named) && named.elements.every((element) => element.isTypeOnly)) continue;
        } else if (
          statement.isTypeOnly ||
          (statement.exportClause && ts.isNamedExports(statement.exportClause) && statement.exportClause.elements.every((element) => element.isTypeOnly))
        ) {
          continue;
        }
        const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
        if (!specifier.startsWith('.')) {
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
          if (!packages.has(name)) packages.set(name, path.relative(ROOT, file));
          continue;
        }
        const base = path.resolve(path.dirname(file), specifier);
        const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(candidate));
        if (target) queue.push(target);
      }
    }
    return packages;
  }

  it('loads no optional peer', () => {
    const loaded = loadedPackages(ENTRIES['@app/sessions'].file);
    expect(OPTIONAL_PEERS.filter((name) => loaded.has(name)).map((name) => `${name} (from ${loaded.get(name)})`)).toEqual([]);
    // The walk does reach the library's own packages.
    expect(loaded.has('@nestjs/cqrs')).toBe(true);
  });

  it.each([
    ['@app/sessions/health', '@nestjs/terminus'],
    ['@app/sessions/throttler', '@nestjs/throttler'],
  ] as const)('%s is where %s comes in', (entry, peer) => {
    expect(loadedPackages(ENTRIES[entry].file).has(peer)).toBe(true);
  });
});
