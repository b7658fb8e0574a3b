// Better Auth, default configuration with email and password on PostgreSQL (pg), as a peer in
// `npm run bench` (bench/peers.ts starts it as a child process, like the service's own server).
//   node better-auth-server.mjs migrate   creates its schema with Better Auth's own migrations
//                                         (getMigrations, what its CLI's `migrate` runs), exits
//   node better-auth-server.mjs           serves /api/auth/* on 127.0.0.1:PORT
// DATABASE_URL, PORT and BETTER_AUTH_SECRET come from the environment.
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import http from 'node:http';
import pg from 'pg';

const { DATABASE_URL, PORT, BETTER_AUTH_SECRET } = process.env;
if (!DATABASE_URL || !PORT || !BETTER_AUTH_SECRET) throw new Error('DATABASE_URL, PORT and BETTER_AUTH_SECRET must be set');

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const options = {
  database: pool,
  baseURL: `http://127.0.0.1:${PORT}`,
  secret: BETTER_AUTH_SECRET,
  emailAndPassword: { enabled: true },
  // The one change to the defaults: its rate limiter (on in production) would answer 429 to a
  // load test, as the service's would; the bench raises the service's limits out of the way too.
  rateLimit: { enabled: false },
};

if (process.argv[2] === 'migrate') {
  const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(options);
  await runMigrations();
  console.log(`migrated: ${toBeCreated.map((table) => table.table).join(', ')} created, ${toBeAdded.length} tables altered`);
  await pool.end();
} else {
  const auth = betterAuth(options);
  const server = http.createServer(toNodeHandler(auth));
  server.keepAliveTimeout = 60_000;
  server.listen(Number(PORT), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void pool.end().finally(() => process.exit(0));
  });
}
