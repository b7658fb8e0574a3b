import net from 'node:net';
import { delay, ServiceProcess } from '../support/service-process';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';
import { auditFromDatabase, triads } from './checks';
import { addDevice, Http, registerAccount } from './harness';

/**
 * The service as an orchestrator runs it (`node dist/src/launch.js`, both apps), stopped with
 * SIGTERM: readiness fails at once while the apps go on serving for the drain, a request in flight
 * at close is answered, the process exits 0 within its bound, and a shutdown that cannot finish
 * ends at SHUTDOWN_TIMEOUT_SECONDS with exit 1 and a line naming what was pending.
 */

jest.setTimeout(120_000);

/**
 * A login whose body is sent in two parts: the server has the request (it is in flight) but
 * cannot answer before `finish()` sends the rest. Resolves with the status line of the answer,
 * or with what ended the connection instead.
 */
function halfSentLogin(port: number, email = 'nobody@example.com'): { sent: Promise<void>; finish(): void; answer: Promise<string> } {
  const body = JSON.stringify({ email, password: 'not the password at all' });
  const head = `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const socket = net.connect(port, '127.0.0.1');
  const sent = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => socket.write(head + body.slice(0, 10), () => resolve()));
    socket.once('error', reject);
  });
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) resolve(received.split('\r\n')[0]);
    });
    socket.once('close', () => resolve(received.split('\r\n')[0] || 'closed without an answer'));
    socket.once('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code}`));
  });
  // write, not end: a client that half-closes its side has its request aborted by Node's HTTP server.
  return { sent, finish: () => socket.write(body.slice(10)), answer };
}

describe('graceful shutdown (SIGTERM)', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix('graceful-shutdown');
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const service of services) await service.kill('SIGKILL');
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
    await database?.drop();
  });

  const start = async (label: string, env: Record<string, string>, databaseUrl = database.url) => {
    const service = await ServiceProcess.start({ label, databaseUrl, redisUrl: TEST_REDIS_URL, cachePrefix: prefix, env });
    services.push(service);
    return service;
  };

  it('fails readiness at once, serves through the drain, answers the request in flight at close, and exits 0', async () => {
    const drainSeconds = 3;
    const service = await start('drain', { SHUTDOWN_DRAIN_SECONDS: String(drainSeconds), SHUTDOWN_TIMEOUT_SECONDS: '15' });
    const web = new Http(service.webUrl, 'web', 2_000);
    const admin = new Http(service.adminUrl, 'admin', 2_000);
    const account = await registerAccount(web, 'drain');
    const device = await addDevice(web, account);
    expect((await web.call('GET', '/health/ready')).status).toBe(200);

    const inFlight = halfSentLogin(service.webPort, account.email);
    await inFlight.sent;
    const signalledAt = Date.now();
    service.signal('SIGTERM');

    // Readiness flips at once, on both apps (the bound allows for a loaded machine: typically 10-30 ms).
    let firstNotReadyMs: number | undefined;
    while (firstNotReadyMs === undefined && Date.now() - signalledAt < 1_000) {
      if ((await web.call('GET', '/health/ready')).status === 503) firstNotReadyMs = Date.now() - signalledAt;
      else await delay(10);
    }
    expect(firstNotReadyMs).toBeDefined();
    console.log(`readiness answered 503 ${firstNotReadyMs} ms after SIGTERM`);
    expect(firstNotReadyMs!).toBeLessThan(250);
    const adminReady = await admin.call('GET', '/health/ready');
    expect(adminReady.status).toBe(503);
    expect(adminReady.body).toMatchObject({ error: { process: { status: 'down', shuttingDown: true } } });

    // During the drain, everything else is served as before.
    const during: Array<{ live: number; adminLive: number; me: number; legacy: number; at: number }> = [];
    // Rounds end well before the drain does: one still running at the close would find the server closed.
    while (Date.now() - signalledAt < drainSeconds * 1_000 - 1_000) {
      const [live, adminLive, me, legacy] = await Promise.all([
        web.call('GET', '/health/live'),
        admin.call('GET', '/health/live'),
        web.call('GET', '/auth/me', { token: device.accessToken }),
        web.call('GET', '/health'),
      ]);
      during.push({ live: live.status, adminLive: adminLive.status, me: me.status, legacy: legacy.status, at: Date.now() - signalledAt });
      await delay(200);
    }
    expect(during.length).toBeGreaterThanOrEqual(3);
    for (const round of during) expect(round).toEqual({ live: 200, adminLive: 200, me: 200, legacy: 503, at: round.at });

    // The apps close after the drain: the request that was in flight since before the signal gets its answer.
    await delay(drainSeconds * 1_000 - (Date.now() - signalledAt) + 300);
    expect(service.running).toBe(true);
    inFlight.finish();
    await expect(inFlight.answer).resolves.toBe('HTTP/1.1 401 Unauthorized');

    const exit = await service.exitStatus(10_000);
    const exitedAfterMs = Date.now() - signalledAt;
    console.log(`exited ${exitedAfterMs} ms after SIGTERM`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeGreaterThanOrEqual(drainSeconds * 1_000);
    // Well within the 15 s bound, and sooner than Node's 5 s keep-alive timeout after the drain: the
    // connection of the request in flight is closed with its answer, not left to idle out.
    expect(exitedAfterMs).toBeLessThan(drainSeconds * 1_000 + 3_500);
    expect(service.structuredLogs('shutdown_started')).toHaveLength(1);
    expect(service.structuredLogs('shutdown_closing').map(({ payload }) => payload.inFlight)).toEqual([{ 'Web API': 1, 'Admin console': 0 }]);
    expect(service.structuredLogs('shutdown_complete')).toHaveLength(1);
    // No new connection once closed.
    expect((await web.call('GET', '/health/live')).status).toBe(0);
    // The audit entries of that last request were written before the process exited, outcome included.
    const audit = triads(await auditFromDatabase(database.url));
    expect(audit.byOutcome).toEqual({ 'user.register:succeeded': 1, 'user.login:succeeded': 1, 'user.login:failed': 1 });
    expect({ missingOutcome: audit.missingOutcome, duplicated: audit.duplicated, loggedEntries: audit.loggedEntries }).toEqual({
      missingOutcome: [],
      duplicated: [],
      loggedEntries: 0,
    });
  });

  it('exits 1 at SHUTDOWN_TIMEOUT_SECONDS when a request cannot finish, naming what was pending', async () => {
    const service = await start('stuck', {
      SHUTDOWN_DRAIN_SECONDS: '0',
      SHUTDOWN_TIMEOUT_SECONDS: '2',
      HTTP_REQUEST_TIMEOUT_MS: '60000',
      HTTP_HEADERS_TIMEOUT_MS: '10000',
    });
    const stuck = halfSentLogin(service.webPort);
    await stuck.sent;
    await delay(100);
    const signalledAt = Date.now();
    service.signal('SIGTERM');
    const exit = await service.exitStatus(10_000);
    const exitedAfterMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(exitedAfterMs).toBeGreaterThanOrEqual(2_000);
    expect(exitedAfterMs).toBeLessThan(4_000);
    const [timeout] = service.structuredLogs('shutdown_timeout');
    expect(timeout?.payload).toMatchObject({ timeoutSeconds: 2, pending: expect.arrayContaining(['Web API: closing, 1 request(s) in flight']) });
    expect(service.structuredLogs('shutdown_complete')).toHaveLength(0);
  });

  it('ends at once, exit 1, on a second SIGTERM during the drain', async () => {
    const service = await start('twice', { SHUTDOWN_DRAIN_SECONDS: '20', SHUTDOWN_TIMEOUT_SECONDS: '30' });
    service.signal('SIGTERM');
    // One signal delivered twice (npm forwarding the terminal's) is one request: still draining.
    await delay(200);
    service.signal('SIGTERM');
    await delay(1_200);
    expect(service.running).toBe(true);
    const signalledAt = Date.now();
    service.signal('SIGTERM');
    expect(await service.exitStatus(5_000)).toEqual({ code: 1, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(2_000);
    const [forced] = service.structuredLogs('shutdown_forced');
    expect(forced?.payload).toMatchObject({ signal: 'SIGTERM', pending: expect.arrayContaining(['Web API: draining, 0 request(s) in flight']) });
  });

  it('keeps liveness at 200 while the database is down; readiness says 503', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', 5432);
    try {
      const url = new URL(database.url);
      url.port = String(proxy.port);
      const service = await start('outage', {}, url.toString());
      const web = new Http(service.webUrl, 'web', 5_000);
      proxy.cut('refuse');
      const [live, ready] = await Promise.all([web.call('GET', '/health/live'), web.call('GET', '/health/ready')]);
      expect({ live: live.status, ready: ready.status }).toEqual({ live: 200, ready: 503 });
      expect(ready.body).toMatchObject({ error: { database: { status: 'down' } } });
      proxy.restore();
      await service.kill('SIGTERM');
    } finally {
      proxy.restore();
      await proxy.close();
    }
  });
});
