import {
  Actors,
  type AuthenticatedSession,
  BootstrapAdmin,
  ChangePassword,
  ChangeUserRole,
  DisableUser,
  EnableUser,
  InvalidCommandInput,
  LoginUser,
  LogoutUser,
  RefreshTokens,
  RegisterUser,
  RequirePasswordReset,
  ResetPassword,
  RevocationReasons,
  RevokeAllUserSessions,
  RevokeSession,
  requestContext,
  SessionDirectory,
  ReauthenticateSession,
  UnlockUser,
} from '@app/sessions';
import { ExecutionContext, INestApplicationContext, Type } from '@nestjs/common';
import { Command, CommandBus } from '@nestjs/cqrs';
import { uniqueEmail } from '../support/api';
import { compileEntries, ENTRIES, type EntryName } from '../support/public-entries';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from '../support/sql';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

/**
 * The public API has no write path that leaves no audit entry. On the real module over a real
 * database: every public method of every injectable the entries export changes no table, and
 * every command they export leaves, for each operation it ran, one Attempted and one outcome with
 * the same correlation id, a Succeeded one whenever a table changed. Both lists come from the
 * exports, so a new injectable or command without a case here fails the test.
 */

const PASSWORD = 'correct horse battery staple 42';
const NEW_PASSWORD = 'another long passphrase for the test 7';
const CONTEXT = requestContext('203.0.113.7', 'write-paths-test');
const HOUR_MS = 3_600_000;
const LOCKOUT_THRESHOLD = 5;

/** Entries whose classes run against the real module; the testing entry's run over in-memory fakes only. */
const REAL_ENTRIES: EntryName[] = ['@app/sessions', '@app/sessions/health', '@app/sessions/throttler'];

let stack: TestStack;
let commands: CommandBus;
let adminId: string;

interface SignedIn {
  readonly userId: string;
  readonly email: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

async function signedIn(label: string): Promise<SignedIn> {
  const email = uniqueEmail(label);
  const registered = await commands.execute(new RegisterUser(email, PASSWORD, CONTEXT));
  if (registered.kind !== 'registered') throw new Error(`register: ${JSON.stringify(registered)}`);
  const login = await commands.execute(new LoginUser(email, PASSWORD, CONTEXT));
  if (login.kind !== 'authenticated') throw new Error(`login: ${JSON.stringify(login)}`);
  return { userId: registered.userId, email, sessionId: login.sessionId, accessToken: login.accessToken, refreshToken: login.refreshToken };
}

beforeAll(async () => {
  stack = await startTestStack({
    label: 'write-paths',
    admin: { email: 'write-paths-admin@example.com', password: PASSWORD },
    // No timer of the library's own writes while a snapshot is compared: the cache namespace is
    // kept live once an hour, and this instance's heartbeat comes every 15 minutes.
    sessions: { cacheHeartbeatMs: HOUR_MS, interruptedAfterSeconds: 3_600 },
    // Low enough for UnlockUser's case to lock an account out; no other case fails a login.
    settings: { rateLimit: { ...GENEROUS_RATE_LIMIT, lockoutThreshold: LOCKOUT_THRESHOLD } },
  });
  commands = stack.web.get(CommandBus);
  adminId = (await stack.web.get(SessionDirectory).findUserByEmail('write-paths-admin@example.com'))!.id;
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

interface TableState {
  readonly rows: number;
  readonly hash: string;
}

/** Row count and a hash of the contents of every table of the database. */
async function snapshot(): Promise<Record<string, TableState>> {
  await stack.settleAudit();
  const tables = await sql<{ name: string }>(
    stack.databaseUrl,
    `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  const state: Record<string, TableState> = {};
  for (const { name } of tables) {
    const [row] = await sql<{ rows: number; hash: string }>(
      stack.databaseUrl,
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS hash FROM ${name} t`,
    );
    state[name] = row;
  }
  return state;
}

function changedTables(before: Record<string, TableState>, after: Record<string, TableState>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name]?.hash !== after[name]?.hash).sort();
}

/** The trail, its monthly partitions and its keys (migration 1764000001400): written by every command. */
const isAuditTable = (name: string) => /(^|\.)(audit_entries(_y\d{4}m\d{2})?|audit_entry_keys)$/.test(name);

async function auditEventIds(): Promise<Set<string>> {
  return new Set((await sql<{ event_id: string }>(stack.databaseUrl, 'SELECT event_id::text FROM audit_entries')).map((row) => row.event_id));
}

// A type, not an interface: sql() takes row types that are records.
type NewAuditEntry = {
  readonly correlation_id: string;
  readonly action: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly actor_type: string;
  readonly actor_name: string | null;
};

async function newAuditEntries(known: Set<string>): Promise<NewAuditEntry[]> {
  const rows = await sql<NewAuditEntry & { event_id: string }>(
    stack.databaseUrl,
    'SELECT event_id::text, correlation_id::text, action, outcome, reason, actor_type, actor_name FROM audit_entries ORDER BY event_id',
  );
  return rows.filter((row) => !known.has(row.event_id));
}

/**
 * The exported classes of the real entries that a host can inject (decorated @Injectable, or
 * provided by the module under their class), and the commands.
 */
/** Exported injectables of the offline verifier (libs/sessions/src/offline), checked apart below. */
const OFFLINE_INJECTABLES = ['OfflineAccessTokenGuard', 'OfflineRevocationList'];

function exportedClasses(): { injectables: Array<[string, Type]>; commands: Array<[string, Type<Command<unknown>>]> } {
  const injectables: Array<[string, Type]> = [];
  const commandClasses: Array<[string, Type<Command<unknown>>]> = [];
  for (const entry of REAL_ENTRIES) {
    for (const [name, value] of Object.entries(ENTRIES[entry].module)) {
      if (typeof value !== 'function') continue;
      if (value.prototype instanceof Command) commandClasses.push([name, value as Type<Command<unknown>>]);
      else if (Reflect.getMetadata('__injectable__', value) === true || resolvableIn([stack.web, stack.admin], value as Type))
        injectables.push([name, value as Type]);
    }
  }
  return { injectables, commands: commandClasses };
}

function resolvableIn(apps: INestApplicationContext[], cls: Type): boolean {
  try {
    instanceIn(apps, cls);
    return true;
  } catch {
    return false;
  }
}

/** The instance of an injectable in whichever of the apps uses it (AdminGuard only the admin console). */
function instanceIn(apps: INestApplicationContext[], cls: Type): unknown {
  for (const app of apps) {
    try {
      return app.get(cls, { strict: false });
    } catch {
      // Not in this app.
    }
  }
  throw new Error(`No app provides ${cls.name}`);
}

/**
 * A method that returns an async iterable (SessionDirectory.auditPages) does its reads only as it
 * is iterated: read it to the end, so whatever it does is in the snapshot compared. Anything else
 * is the answer itself.
 */
async function drained(answer: unknown): Promise<unknown> {
  if (answer === null || typeof answer !== 'object' || !(Symbol.asyncIterator in answer)) return answer;
  const items: unknown[] = [];
  for await (const item of answer as AsyncIterable<unknown>) items.push(item);
  return items;
}

/** An HTTP execution context, as Express or Fastify would hand a guard. */
function httpContext(accessToken: string | null, authenticated?: AuthenticatedSession): ExecutionContext {
  const headers: Record<string, string> = accessToken ? { authorization: `Bearer ${accessToken}` } : {};
  const request = { headers, get: (name: string) => headers[name.toLowerCase()], authenticated, ip: '203.0.113.7', socket: { remoteAddress: '203.0.113.7' } };
  const response = { setHeader: () => undefined, header: () => undefined };
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response, getNext: () => undefined }),
    getHandler: () => httpContext,
    getClass: () => Object,
    getArgs: () => [request, response],
    getArgByIndex: (index: number) => [request, response][index],
  } as unknown as ExecutionContext;
}

describe('the public API has no write path that leaves no audit entry', () => {
  it('reads: no public method of an exported injectable changes a table', async () => {
    const reader = await signedIn('reader');
    const session: AuthenticatedSession = { userId: reader.userId, sessionId: reader.sessionId };
    const admin = await commands.execute(new LoginUser('write-paths-admin@example.com', PASSWORD, CONTEXT));
    if (admin.kind !== 'authenticated') throw new Error('the admin could not sign in');
    /** The arguments of each public method; a method not listed here fails the test. */
    const calls: Record<string, Record<string, unknown[]>> = {
      SessionAuthenticator: { authenticate: [reader.accessToken] },
      SessionDirectory: {
        findUser: [reader.userId],
        findUserByEmail: [reader.email.toUpperCase()],
        adminExists: [],
        listSessions: [reader.userId, true],
        findSession: [reader.sessionId],
        refreshTokenSessionIsLive: [reader.refreshToken],
        queryAudit: [{ userId: reader.userId, limit: 50 }],
        auditPages: [{ userId: reader.userId }],
        findConsoleSession: [reader.refreshToken],
        queuedCacheMarkers: [],
        searchUsers: [{ query: reader.email.toUpperCase(), limit: 25 }],
        describeUser: [reader.userId],
        overview: [],
      },
      AccessTokenGuard: { canActivate: [httpContext(reader.accessToken)] },
      OptionalAccessTokenGuard: { canActivate: [httpContext(reader.accessToken)] },
      AdminGuard: { canActivate: [httpContext(admin.accessToken, { userId: adminId, sessionId: admin.sessionId })] },
      SessionsHealthIndicator: { database: [], cache: [] },
      AccessTokenKeys: { jwks: [] },
      // The module class itself is injectable too; it has no public method.
      SessionsModule: {},
    };

    const compiled = compileEntries();
    const publicMethods = (name: string): string[] => REAL_ENTRIES.flatMap((entry) => compiled[entry].publicMethods[name] ?? []);
    const { injectables: all } = exportedClasses();
    // The offline verifier's classes run in another service's process and read this one over HTTP:
    // they hold no database connection, so they cannot change a table (nothing there imports TypeORM).
    const offlineDir = path.join(__dirname, '../../libs/sessions/src/offline');
    for (const file of readdirSync(offlineDir))
      expect({ file, typeorm: /from 'typeorm'/.test(readFileSync(path.join(offlineDir, file), 'utf8')) }).toEqual({ file, typeorm: false });
    const injectables = all.filter(([name]) => !OFFLINE_INJECTABLES.includes(name));
    expect(
      all
        .map(([name]) => name)
        .filter((name) => OFFLINE_INJECTABLES.includes(name))
        .sort(),
    ).toEqual([...OFFLINE_INJECTABLES].sort());
    expect(injectables.map(([name]) => name).sort()).toEqual(Object.keys(calls).sort());

    const before = await snapshot();
    const ids = await auditEventIds();
    const answers: Record<string, unknown> = {};
    for (const [name, cls] of injectables) {
      const instance = instanceIn([stack.web, stack.admin], cls) as Record<string, (...args: unknown[]) => unknown>;
      expect({ name, methods: publicMethods(name) }).toEqual({ name, methods: Object.keys(calls[name]).sort() });
      for (const method of publicMethods(name)) answers[`${name}.${method}`] = await drained(await instance[method](...calls[name][method]));
    }
    const after = await snapshot();

    expect(changedTables(before, after)).toEqual([]);
    expect(await newAuditEntries(ids)).toEqual([]);
    // The reads did their work (an unanswered read would prove nothing).
    expect(answers).toMatchObject({
      'SessionAuthenticator.authenticate': session,
      'SessionDirectory.findUserByEmail': { id: reader.userId },
      'SessionDirectory.adminExists': true,
      'SessionDirectory.searchUsers': { users: [{ id: reader.userId, activeSessions: 1 }], next: null },
      'SessionDirectory.describeUser': { id: reader.userId, status: 'active' },
      'SessionDirectory.refreshTokenSessionIsLive': true,
      // Every page of the reader's operations: register and login, each an Attempted and a Succeeded.
      'SessionDirectory.auditPages': [expect.arrayContaining([expect.objectContaining({ userId: reader.userId })])],
      // An app session's refresh token is no console credential.
      'SessionDirectory.findConsoleSession': null,
      'AccessTokenGuard.canActivate': true,
      'AdminGuard.canActivate': true,
      'SessionsHealthIndicator.database': { database: { status: 'up' } },
    });
  }, 60_000);

  it('commands: each changes the database only with its Attempted and Succeeded, and records every operation whole', async () => {
    /**
     * How to dispatch each exported command so that it has something to do. `prepare` may write
     * (it dispatches commands of its own); only what the command itself does is compared.
     */
    const cases: Record<string, () => Promise<Command<unknown>>> = {
      RegisterUser: async () => new RegisterUser(uniqueEmail('register'), PASSWORD, CONTEXT),
      LoginUser: async () => {
        const user = await signedIn('login');
        return new LoginUser(user.email, PASSWORD, CONTEXT);
      },
      RefreshTokens: async () => new RefreshTokens((await signedIn('refresh')).refreshToken, CONTEXT),
      LogoutUser: async () => {
        const user = await signedIn('logout');
        return new LogoutUser(user.refreshToken, user.userId, CONTEXT, user.sessionId);
      },
      RevokeSession: async () => {
        const user = await signedIn('revoke-one');
        return new RevokeSession(user.userId, user.sessionId, RevocationReasons.userRevoked, Actors.user(user.userId), CONTEXT);
      },
      RevokeAllUserSessions: async () => {
        const user = await signedIn('revoke-all');
        return new RevokeAllUserSessions(user.userId, RevocationReasons.userRevokedAll, Actors.admin(adminId), CONTEXT);
      },
      ChangePassword: async () => {
        const user = await signedIn('password');
        await commands.execute(new LoginUser(user.email, PASSWORD, CONTEXT));
        return new ChangePassword(user.userId, user.sessionId, PASSWORD, NEW_PASSWORD, CONTEXT);
      },
      // An administrator exists (from ADMIN_EMAIL): the command is refused, and says so in the trail.
      BootstrapAdmin: async () => new BootstrapAdmin(uniqueEmail('second-admin'), PASSWORD),
      ChangeUserRole: async () =>
        new ChangeUserRole((await signedIn('role')).userId, 'admin', 'promoted by the write-path test', Actors.admin(adminId), CONTEXT),
      DisableUser: async () => new DisableUser((await signedIn('disable')).userId, 'disabled by the write-path test', Actors.admin(adminId), CONTEXT),
      EnableUser: async () => {
        const user = await signedIn('enable');
        await commands.execute(new DisableUser(user.userId, 'disabled by the write-path test', Actors.admin(adminId), CONTEXT));
        return new EnableUser(user.userId, 'enabled by the write-path test', Actors.admin(adminId), CONTEXT);
      },
      // Locked out first, so the unlock has a lock to clear (and a row of login_lockouts to change).
      UnlockUser: async () => {
        const user = await signedIn('unlock');
        const lockoutContext = requestContext('198.51.100.23', 'write-paths-test');
        for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) await commands.execute(new LoginUser(user.email, 'not the password', lockoutContext));
        return new UnlockUser(user.userId, 'unlocked by the write-path test', Actors.admin(adminId), CONTEXT);
      },
      // The console's step-up: the right password records when it was entered again.
      ReauthenticateSession: async () => {
        const user = await signedIn('reauthenticate');
        return new ReauthenticateSession(user.userId, user.sessionId, PASSWORD, CONTEXT);
      },
      RequirePasswordReset: async () =>
        new RequirePasswordReset((await signedIn('require-reset')).userId, 'reset by the write-path test', Actors.admin(adminId), CONTEXT),
      ResetPassword: async () => {
        const user = await signedIn('reset');
        const required = await commands.execute(new RequirePasswordReset(user.userId, 'reset by the write-path test', Actors.admin(adminId), CONTEXT));
        if (required.kind !== 'reset_required') throw new Error('the reset was not required');
        return new ResetPassword(required.resetToken, NEW_PASSWORD, CONTEXT);
      },
    };

    /**
     * What the public API offers besides the command classes, through a command each: a host
     * module acting on its own behalf (`Actors.service`), and input no command accepts
     * (`InvalidCommandInput`, with its Attempted and Failed and nothing else).
     */
    const variants: Record<string, { readonly command: () => Promise<Command<unknown>>; readonly refused?: true }> = {
      'RevokeAllUserSessions by Actors.service': {
        command: async () => new RevokeAllUserSessions((await signedIn('service')).userId, 'subscription_ended', Actors.service('billing'), CONTEXT),
      },
      'RevokeAllUserSessions of a user id that is no UUID': {
        command: async () => new RevokeAllUserSessions('not-a-uuid', RevocationReasons.userRevokedAll, Actors.admin(adminId), CONTEXT),
        refused: true,
      },
    };

    const { commands: exported } = exportedClasses();
    expect(exported.map(([name]) => name).sort()).toEqual(Object.keys(cases).sort());

    const runs: Array<{ name: string; make: () => Promise<Command<unknown>>; cls?: Type<Command<unknown>>; refused?: true }> = [
      ...exported.map(([name, cls]) => ({ name, make: cases[name], cls })),
      ...Object.entries(variants).map(([name, variant]) => ({ name, make: variant.command, refused: variant.refused })),
    ];
    const results: Array<{ command: string; changed: string[]; operations: Record<string, string[]>; entries: NewAuditEntry[] }> = [];
    for (const { name, make, cls, refused } of runs) {
      const command = await make();
      if (cls) expect(command).toBeInstanceOf(cls);
      const before = await snapshot();
      const ids = await auditEventIds();
      if (refused) await expect(commands.execute(command)).rejects.toBeInstanceOf(InvalidCommandInput);
      else await commands.execute(command);
      const after = await snapshot();
      const entries = await newAuditEntries(ids);
      const operations: Record<string, string[]> = {};
      for (const entry of entries) (operations[entry.correlation_id] ??= []).push(`${entry.action}:${entry.outcome}`);
      results.push({ command: name, changed: changedTables(before, after).filter((table) => !isAuditTable(table)), operations, entries });
    }

    for (const { command, changed, operations } of results) {
      const triads = Object.values(operations);
      // At least its own operation, each one whole: one Attempted, then exactly one outcome.
      expect({ command, operations: triads.length > 0 }).toEqual({ command, operations: true });
      for (const outcomes of triads) {
        expect({ command, outcomes: outcomes.map((outcome) => outcome.split(':')[1]) }).toEqual({
          command,
          outcomes: ['attempted', expect.stringMatching(/^(succeeded|failed)$/)],
        });
      }
      if (changed.length > 0) {
        expect({ command, changed, succeeded: triads.some((outcomes) => outcomes[1].endsWith(':succeeded')) }).toEqual({ command, changed, succeeded: true });
      }
    }
    // Every case really wrote, except the refused bootstrap and the refused input: the test above is not vacuous.
    expect(results.filter((result) => result.changed.length === 0).map((result) => result.command)).toEqual([
      'BootstrapAdmin',
      'RevokeAllUserSessions of a user id that is no UUID',
    ]);

    const entriesOf = (name: string) =>
      results.find((result) => result.command === name)!.entries.map((entry) => [entry.outcome, entry.reason, entry.actor_type, entry.actor_name]);
    // The service is named in its Attempted and its Succeeded.
    expect(entriesOf('RevokeAllUserSessions by Actors.service')).toEqual([
      ['attempted', 'subscription_ended', 'service', 'billing'],
      ['succeeded', 'subscription_ended', 'service', 'billing'],
    ]);
    expect(entriesOf('RevokeAllUserSessions of a user id that is no UUID')).toEqual([
      ['attempted', RevocationReasons.userRevokedAll, 'admin', null],
      ['failed', 'invalid_input', 'admin', null],
    ]);
  }, 120_000);
});
