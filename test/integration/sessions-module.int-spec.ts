import {
  AccessTokenGuard,
  type AuthenticatedSession,
  CurrentSession,
  LoginUser,
  NO_REQUEST_CONTEXT,
  RegisterUser,
  SessionsConfigurationError,
  SessionsModule,
  type SessionsModuleOptions,
  type SessionsOptionsFactory,
  verifyAuditSeals,
} from '@app/sessions';
import { createRedisCacheStores, type RedisCacheStores, type Runtime, startRuntime, createAppLogger } from '@app/runtime';
import { CacheModule } from '@nestjs/cache-manager';
import { ConsoleLogger, Controller, DynamicModule, Get, Global, INestApplication, Inject, Injectable, Module, Type, UseGuards } from '@nestjs/common';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { expectEventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { sql } from '../support/sql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * SessionsModule as a host wires it: a global CqrsModule, a TypeORM DataSource, a CacheModule,
 * and the module through forRoot or each form of forRootAsync. The Redis is this file's own, so
 * the default cache key prefix writes nowhere else.
 */

const SECRET = 'a-host-secret-that-is-long-enough-for-hs256';
const PASSWORD = 'correct horse battery staple 42';
/** Cheap argon2id: the parameters are not what is under test (the first spec keeps the defaults). */
const CHEAP_HASHING = { memoryCostKiB: 1024, timeCost: 1, parallelism: 1 };

let database: TestDatabase;
let redis: RedisServer;
let runtime: Runtime;
const quiet = new ConsoleLogger({ logLevels: ['fatal'] });

beforeAll(async () => {
  database = await createTestDatabase();
  redis = await RedisServer.start();
  // The runtime brings the database to the library's schema; the host modules below only borrow its DataSource.
  runtime = await startRuntime({
    database: { url: database.url, poolSize: 4, statementTimeoutMs: 5_000 },
    cache: { redisUrl: redis.url, store: 'keyv-redis' },
    sessions: { accessTokenSecret: SECRET },
    http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false },
    logger: createAppLogger({ nodeEnv: 'test', level: 'fatal' }),
  });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await redis?.stop();
  await database?.drop();
});

@Controller('whoami')
class WhoAmIController {
  @Get()
  @UseGuards(AccessTokenGuard)
  whoAmI(@CurrentSession() session: AuthenticatedSession): AuthenticatedSession {
    return session;
  }
}

/** A feature module of the host that does not import SessionsModule itself. */
@Module({ controllers: [WhoAmIController] })
class FeatureModule {}

interface Host {
  readonly app: INestApplication;
  close(): Promise<void>;
}

interface HostOptions {
  /** Default: a Redis store on this file's redis-server (the runtime's); or the host's own stores. */
  readonly cache?: 'redis' | 'memory' | { readonly stores: Keyv[] };
  /** Sees the Redis stores boot creates, before the module is built. */
  readonly onStores?: (stores: RedisCacheStores) => void;
  readonly imports?: Array<Type | DynamicModule>;
  readonly controllers?: Type[];
  /** Name the DataSource is provided under; the default token when absent. */
  readonly dataSourceName?: string;
}

async function boot(sessions: DynamicModule, options: HostOptions = {}): Promise<Host> {
  let stores: RedisCacheStores | undefined;
  if ((options.cache ?? 'redis') === 'redis') stores = await createRedisCacheStores('keyv-redis', redis.url, { namespace: `host-${randomUUID()}` });
  if (stores) options.onStores?.(stores);
  const ownStores = typeof options.cache === 'object' ? options.cache.stores : stores?.stores;
  @Global()
  @Module({
    providers: [{ provide: getDataSourceToken(options.dataSourceName), useValue: runtime.dataSource }],
    exports: [getDataSourceToken(options.dataSourceName)],
  })
  class DatabaseModule {}
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule,
        CacheModule.register({ isGlobal: true, ...(ownStores ? { stores: ownStores as never } : {}) }),
        sessions,
        ...(options.imports ?? []),
      ],
      controllers: options.controllers ?? [],
    })
      .setLogger(quiet)
      .compile();
    const app = moduleRef.createNestApplication({ logger: quiet });
    await app.init();
    return {
      app,
      close: async () => {
        await app.close();
        await stores?.close();
      },
    };
  } catch (error) {
    await stores?.close();
    throw error;
  }
}

/** Registers and signs in through the bus, as a host's own module would. */
async function signIn(host: Host): Promise<{ userId: string; accessToken: string; expiresIn: number }> {
  const bus = host.app.get(CommandBus);
  const email = `host-${randomUUID()}@example.com`;
  const registered = await bus.execute(new RegisterUser(email, PASSWORD, NO_REQUEST_CONTEXT));
  if (registered.kind !== 'registered') throw new Error(`register: ${JSON.stringify(registered)}`);
  const login = await bus.execute(new LoginUser(email, PASSWORD, NO_REQUEST_CONTEXT));
  if (login.kind !== 'authenticated') throw new Error(`login: ${JSON.stringify(login)}`);
  return { userId: registered.userId, accessToken: login.accessToken, expiresIn: login.expiresIn };
}

async function configurationError(booting: Promise<Host>): Promise<SessionsConfigurationError> {
  const error = await booting.then(
    async (host) => {
      await host.close();
      throw new Error('the module booted');
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(SessionsConfigurationError);
  return error as SessionsConfigurationError;
}

describe('SessionsModule.forRoot', () => {
  it('boots with the signing secret alone and serves commands and the guard', async () => {
    const host = await boot(SessionsModule.forRoot({ accessTokenSecret: SECRET }), { controllers: [WhoAmIController] });
    try {
      const { userId, accessToken, expiresIn } = await signIn(host);
      expect(expiresIn).toBe(900);
      const me = await request(host.app.getHttpServer()).get('/whoami').set('authorization', `Bearer ${accessToken}`).expect(200);
      expect(me.body).toMatchObject({ userId });
      await request(host.app.getHttpServer()).get('/whoami').expect(401);
    } finally {
      await host.close();
    }
  }, 30_000);

  it('seals the audit trail every auditSealIntervalSeconds, from bootstrap to shutdown', async () => {
    const eventId = randomUUID();
    await sql(
      database.url,
      `INSERT INTO sessions.audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, recorded_at)
       VALUES ($1, $2, 'user.login', 'attempted', now() - interval '1 hour', 'user', now() - interval '1 hour')`,
      [eventId, randomUUID()],
    );
    const host = await boot(SessionsModule.forRoot({ accessTokenSecret: SECRET, auditSealIntervalSeconds: 1 }));
    try {
      const [sealed] = await expectEventually(async () => {
        const rows = await sql<{ entry_hashes: Buffer }>(database.url, `SELECT entry_hashes FROM sessions.audit_seals WHERE entry_count > 0`);
        expect(rows).toHaveLength(1);
        return rows;
      });
      expect(sealed.entry_hashes.subarray(0, 16).toString('hex')).toBe(eventId.replace(/-/g, ''));
    } finally {
      await host.close();
    }
    await expect(verifyAuditSeals(runtime.dataSource)).resolves.toMatchObject({ ok: true, entries: 1 });
  }, 30_000);

  it('uses the DataSource named by dataSourceName', async () => {
    const host = await boot(SessionsModule.forRoot({ accessTokenSecret: SECRET, passwordHashing: CHEAP_HASHING, dataSourceName: 'sessions-db' }), {
      dataSourceName: 'sessions-db',
    });
    try {
      await signIn(host);
    } finally {
      await host.close();
    }
  });

  it('refuses bad options at start-up, naming every bad field', async () => {
    const error = await configurationError(
      boot(
        SessionsModule.forRoot({
          accessTokenSecret: 'too-short',
          cacheTimeoutMs: -1,
          schema: 'Sessions-Schema',
          lifetimes: { accessTokenTtlSeconds: 3_600, sessionTtlSeconds: 60 },
          // The benchmark switch is gone: a host passing it is told, not silently obeyed.
          authCheck: 'signature-only',
        } as SessionsModuleOptions),
      ),
    );
    expect(error.code).toBe('invalid_configuration');
    expect(error.problems).toEqual([
      expect.stringMatching(/^authCheck is not an option of SessionsModule/),
      'accessTokenSecret must be at least 32 characters long (got 9)',
      expect.stringMatching(/^lifetimes\.sessionTtlSeconds must be greater than lifetimes\.accessTokenTtlSeconds/),
      'cacheTimeoutMs must be an integer between 1 and 60000 (got -1)',
      expect.stringMatching(/^schema must be a PostgreSQL identifier .* \(got "Sessions-Schema"\)$/),
    ]);
    // The secret itself is never quoted.
    expect(error.message).not.toContain('too-short');
  });

  it('refuses a missing secret', async () => {
    const error = await configurationError(boot(SessionsModule.forRoot({})));
    expect(error.problems).toEqual([expect.stringMatching(/^accessTokenSecret is required/)]);
  });
});

describe('a cache store other instances do not share', () => {
  it('stops start-up, saying why and what to do', async () => {
    const error = await configurationError(boot(SessionsModule.forRoot({ accessTokenSecret: SECRET }), { cache: 'memory' }));
    expect(error.message).toMatch(/CACHE_MANAGER store is not Redis \(an in-process Map/);
    expect(error.message).toMatch(/revocations made on one instance would not reach the others/);
    expect(error.message).toMatch(/Redis store .* or set singleInstance: true/);
  });

  it('is accepted when the host says it runs a single instance', async () => {
    const host = await boot(SessionsModule.forRoot({ accessTokenSecret: SECRET, passwordHashing: CHEAP_HASHING, singleInstance: true }), {
      cache: 'memory',
      controllers: [WhoAmIController],
    });
    try {
      const { accessToken } = await signIn(host);
      await request(host.app.getHttpServer()).get('/whoami').set('authorization', `Bearer ${accessToken}`).expect(200);
    } finally {
      await host.close();
    }
  });
});

const SETTINGS = Symbol('HostSettings');

/** The host's own configuration module, which the options factory reads. */
@Module({ providers: [{ provide: SETTINGS, useValue: { secret: SECRET, accessTokenTtlSeconds: 120 } }], exports: [SETTINGS] })
class HostSettingsModule {}

@Injectable()
class HostSessionsOptions implements SessionsOptionsFactory {
  constructor(@Inject(SETTINGS) private readonly settings: { secret: string; accessTokenTtlSeconds: number }) {}

  createSessionsOptions(): SessionsModuleOptions {
    return {
      accessTokenSecret: this.settings.secret,
      passwordHashing: CHEAP_HASHING,
      lifetimes: { accessTokenTtlSeconds: this.settings.accessTokenTtlSeconds },
    };
  }
}

/** For useExisting: a module of the host that provides the factory. */
@Module({ imports: [HostSettingsModule], providers: [HostSessionsOptions], exports: [HostSessionsOptions] })
class HostOptionsModule {}

describe('SessionsModule.forRootAsync', () => {
  const forms: Array<[string, () => DynamicModule]> = [
    [
      'useFactory',
      () =>
        SessionsModule.forRootAsync({
          imports: [HostSettingsModule],
          inject: [SETTINGS],
          useFactory: (settings: { secret: string; accessTokenTtlSeconds: number }) => ({
            accessTokenSecret: settings.secret,
            passwordHashing: CHEAP_HASHING,
            lifetimes: { accessTokenTtlSeconds: settings.accessTokenTtlSeconds },
          }),
        }),
    ],
    ['useClass', () => SessionsModule.forRootAsync({ imports: [HostSettingsModule], useClass: HostSessionsOptions })],
    ['useExisting', () => SessionsModule.forRootAsync({ imports: [HostOptionsModule], useExisting: HostSessionsOptions })],
  ];

  it.each(forms)('takes the options from %s', async (_form, sessions) => {
    const host = await boot(sessions());
    try {
      // 120 s is the factory's, not the default 900: the handlers got the host's options.
      expect((await signIn(host)).expiresIn).toBe(120);
    } finally {
      await host.close();
    }
  });

  it('refuses the module extras inside the options the factory returns', async () => {
    const error = await configurationError(
      boot(SessionsModule.forRootAsync({ useFactory: () => ({ accessTokenSecret: SECRET, isGlobal: true }) as SessionsModuleOptions })),
    );
    expect(error.problems).toEqual(['isGlobal is a module extra: pass it to forRootAsync next to useFactory, not in the options it returns']);
  });
});

describe('isGlobal', () => {
  it('lets a feature module that does not import SessionsModule guard its routes', async () => {
    const host = await boot(
      SessionsModule.forRootAsync({ isGlobal: true, useFactory: () => ({ accessTokenSecret: SECRET, passwordHashing: CHEAP_HASHING }) }),
      { imports: [FeatureModule] },
    );
    try {
      const { userId, accessToken } = await signIn(host);
      const me = await request(host.app.getHttpServer()).get('/whoami').set('authorization', `Bearer ${accessToken}`).expect(200);
      expect(me.body).toMatchObject({ userId });
    } finally {
      await host.close();
    }
  });

  it('is needed for that: without it the feature module cannot build the guard', async () => {
    const booting = boot(SessionsModule.forRoot({ accessTokenSecret: SECRET, passwordHashing: CHEAP_HASHING }), { imports: [FeatureModule] });
    await expect(booting).rejects.toThrow(/can't resolve dependencies of the AccessTokenGuard/);
  });
});

describe("the host's Redis client", () => {
  const clientOf = (stores: Keyv[]) => (stores[0].store as KeyvRedis<unknown>).client;

  it('stays closed when a failed start-up made the host close it: building the adapters never connects it', async () => {
    let client: ReturnType<typeof clientOf> | undefined;
    // The module fails while the rest of its providers are still being built; boot closes its
    // client at once, as a host does on a failed start-up.
    const booting = boot(SessionsModule.forRoot({ accessTokenSecret: SECRET, passwordHashing: CHEAP_HASHING }), {
      imports: [FeatureModule],
      onStores: (stores) => (client = clientOf(stores.stores)),
    });
    await expect(booting).rejects.toThrow(/can't resolve dependencies of the AccessTokenGuard/);
    try {
      // Long enough for a reconnect (it took a few milliseconds when the adapters' factories started it).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(client!.isOpen).toBe(false);
    } finally {
      if (client!.isOpen) await client!.destroy();
    }
  });

  it('is connected when the module initialises, if the host gave a @keyv/redis store that connects on first use', async () => {
    const lazy = new KeyvRedis<unknown>(redis.url, { namespace: `host-${randomUUID()}` });
    expect(lazy.client.isOpen).toBe(false);
    const host = await boot(SessionsModule.forRoot({ accessTokenSecret: SECRET, passwordHashing: CHEAP_HASHING }), {
      cache: { stores: [new Keyv(lazy, { useKeyPrefix: false })] },
    });
    try {
      await expectEventually(() => expect((lazy.client as { isReady?: boolean }).isReady).toBe(true), { timeoutMs: 5_000 });
    } finally {
      await host.close();
      await lazy.disconnect();
    }
  });
});
