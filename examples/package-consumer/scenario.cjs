'use strict';
// What a host does with the installed package, in plain JavaScript: wire SessionsModule, register
// a user, sign in, revoke all their sessions through the CommandBus, and check the outcome, the
// event and the audit trail. host.cjs require()s the packages and host.mjs imports them; both hand
// them here, so the same steps prove the package from CommonJS and from ESM.
const { randomBytes } = require('node:crypto');

const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** @param {Record<string, any>} packages the host's own copies: common, core, cqrs, typeorm, cacheManager, keyv, KeyvRedis, pg, sessions */
async function run(packages, label) {
  const { common, core, cqrs, typeorm, cacheManager, keyv, KeyvRedis, pg, sessions } = packages;
  const database = `t_${randomBytes(8).toString('hex')}`;
  const prefix = `t:package-consumer-${label}:${randomBytes(6).toString('hex')}:`;
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${database}`;
  await asAdmin(pg, `CREATE DATABASE ${database}`);
  let app;
  try {
    class HostModule {}
    common.Module({
      imports: [
        cqrs.CqrsModule.forRoot(),
        typeorm.TypeOrmModule.forRoot({ type: 'postgres', url: databaseUrl.toString() }),
        cacheManager.CacheModule.register({ isGlobal: true, stores: [new keyv.Keyv(new KeyvRedis(REDIS_URL))] }),
        // Cheap argon2id: the parameters are not what this run checks.
        sessions.SessionsModule.forRoot({
          isGlobal: true,
          accessTokenSecret: randomBytes(32).toString('hex'),
          cacheKeyPrefix: prefix,
          passwordHashing: { memoryCostKiB: 1024, timeCost: 1 },
        }),
      ],
    })(HostModule);

    app = await core.NestFactory.createApplicationContext(HostModule, { logger: ['error', 'warn'] });
    const commandBus = app.get(cqrs.CommandBus);
    const revokedEvents = [];
    const subscription = app
      .get(cqrs.EventBus)
      .pipe(cqrs.ofType(sessions.AllSessionsRevoked))
      .subscribe((event) => revokedEvents.push(event));
    const context = sessions.requestContext('203.0.113.7', `package-consumer (${label})`);

    const email = `consumer-${randomBytes(4).toString('hex')}@example.com`;
    const password = `${randomBytes(12).toString('base64url')}-Consumer`;
    const registered = await commandBus.execute(new sessions.RegisterUser(email, password, context));
    expect(registered.kind === 'registered', 'RegisterUser registered the user', registered);
    const login = await commandBus.execute(new sessions.LoginUser(email, password, context));
    expect(login.kind === 'authenticated', 'LoginUser opened a session', login);

    const revoked = await commandBus.execute(
      new sessions.RevokeAllUserSessions(registered.userId, 'package check', sessions.Actors.user(registered.userId), context),
    );
    expect(
      revoked.kind === 'revoked' && revoked.revokedCount === 1 && revoked.sessionIds[0] === login.sessionId,
      'RevokeAllUserSessions ended that session',
      revoked,
    );
    expect(revokedEvents.length === 1 && revokedEvents[0].subjectUserId === registered.userId, 'the host saw AllSessionsRevoked', revokedEvents);
    subscription.unsubscribe();

    const trail = await eventually(async () => {
      const rows = await query(pg, databaseUrl.toString(), 'SELECT outcome FROM sessions.audit_entries WHERE user_id = $1 AND action = $2 ORDER BY outcome', [
        registered.userId,
        sessions.AuditActions.revokeAllSessions,
      ]);
      const outcomes = rows.map((row) => row.outcome).join(',');
      return outcomes === 'attempted,succeeded' ? outcomes : undefined;
    });
    expect(trail !== undefined, 'the audit trail holds Attempted and Succeeded for the revocation');
    console.log(`package-consumer (${label}): RegisterUser, LoginUser and RevokeAllUserSessions ran through the installed package`);
  } finally {
    await app?.close();
    await asAdmin(pg, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await deleteKeys(REDIS_URL, prefix, packages.redis);
  }
}

function expect(condition, what, actual) {
  if (!condition) throw new Error(`package-consumer: expected ${what}${actual === undefined ? '' : `, got ${JSON.stringify(actual)}`}`);
}

async function eventually(probe, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function query(pg, url, sql, params) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function asAdmin(pg, sql) {
  return query(pg, ADMIN_URL, sql, []);
}

/** The keys the run left under its own prefix (SCAN, never KEYS), deleted. */
async function deleteKeys(url, prefix, redis) {
  const client = redis.createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, COUNT: 1_000 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
}

module.exports = { run };
