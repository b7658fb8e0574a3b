import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, ServiceProcess, waitFor } from '../support/service-process';
import { sql } from '../support/sql';
import { TEST_REDIS_URL } from '../support/test-app';
import { createTestDatabase, deleteRedisKeys, type TestDatabase, testRedisPrefix } from '../support/test-database';

/**
 * The built service as a real process with tracing on (OTLP over HTTP/JSON to a receiver run
 * here) and off: spans for the HTTP request, its PostgreSQL queries and Redis commands, linked
 * as parent and child, with the command's name and correlation id; and with tracing off, no
 * OpenTelemetry module loaded and nothing sent.
 */

jest.setTimeout(120_000);

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: number | string;
  readonly boolValue?: boolean;
  readonly doubleValue?: number;
}
interface OtlpAttribute {
  readonly key: string;
  readonly value: OtlpValue;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: readonly OtlpAttribute[];
  readonly events?: ReadonlyArray<{ readonly name: string; readonly attributes: readonly OtlpAttribute[] }>;
}
interface ExportRequest {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: readonly OtlpAttribute[] };
    readonly scopeSpans: ReadonlyArray<{ readonly scope: { readonly name: string }; readonly spans: readonly OtlpSpan[] }>;
  }>;
}
interface ReceivedSpan extends OtlpSpan {
  readonly scope: string;
  readonly resource: Record<string, unknown>;
  readonly attrs: Record<string, unknown>;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

function plain(attributes: readonly OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (attributes ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue)),
    ]),
  );
}

/** An OTLP/HTTP receiver: keeps every request it gets, answers 200 with an empty export response. */
class OtlpReceiver {
  readonly requests: Array<{ path: string; contentType: string | undefined; body: string }> = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  spans(): ReceivedSpan[] {
    return this.requests.flatMap((request) => {
      const exported = JSON.parse(request.body) as ExportRequest;
      return exported.resourceSpans.flatMap((resourceSpans) =>
        resourceSpans.scopeSpans.flatMap((scopeSpans) =>
          scopeSpans.spans.map((span) => ({
            ...span,
            scope: scopeSpans.scope.name,
            resource: plain(resourceSpans.resource.attributes),
            attrs: plain(span.attributes),
          })),
        ),
      );
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * Loaded into the service with NODE_OPTIONS=--require: when the process exits, it writes the
 * module files it had loaded (require.cache) to a file, for the test to read.
 */
function moduleReport(dir: string): { nodeOptions: string; loaded(): string[] } {
  const reportFile = path.join(dir, 'loaded-modules.json');
  const script = path.join(dir, 'report-modules.js');
  writeFileSync(
    script,
    `'use strict';
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(reportFile)}, JSON.stringify(Object.keys(require.cache))));
`,
  );
  return { nodeOptions: `--require ${script}`, loaded: () => JSON.parse(readFileSync(reportFile, 'utf8')) as string[] };
}

const openTelemetryModules = (files: readonly string[]) => files.filter((file) => file.includes(`${path.sep}@opentelemetry${path.sep}`));

async function signIn(webUrl: string, label: string, headers: Record<string, string> = {}): Promise<{ email: string; accessToken: string }> {
  const email = `${label}-${Date.now()}@example.com`;
  const password = 'tracing password 1';
  const registered = await fetch(`${webUrl}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(registered.status).toBe(201);
  const login = await fetch(`${webUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  });
  expect(login.status).toBe(200);
  const { accessToken } = (await login.json()) as { accessToken: string };
  return { email, accessToken };
}

describe('tracing (OpenTelemetry, opt-in)', () => {
  let database: TestDatabase;
  let workDir: string;
  const prefix = testRedisPrefix('tracing');

  beforeAll(async () => {
    database = await createTestDatabase();
    workDir = mkdtempSync(path.join(tmpdir(), 'tracing-e2e-'));
  });

  afterAll(async () => {
    await database?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
    rmSync(workDir, { recursive: true, force: true });
  });

  describe('with an OTLP endpoint set', () => {
    const receiver = new OtlpReceiver();
    let service: ServiceProcess | undefined;
    let report: ReturnType<typeof moduleReport>;

    beforeAll(async () => {
      const endpoint = await receiver.start();
      report = moduleReport(mkdtempSync(path.join(workDir, 'on-')));
      service = await ServiceProcess.start({
        label: 'tracing-on',
        databaseUrl: database.url,
        redisUrl: TEST_REDIS_URL,
        cachePrefix: prefix,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          // Export within a fraction of a second instead of the default five.
          OTEL_BSP_SCHEDULE_DELAY: '200',
          NODE_OPTIONS: report.nodeOptions,
        },
      });
    }, 60_000);

    afterAll(async () => {
      await service?.stop();
      await receiver.stop();
    });

    it('exports the request, its SQL and its Redis commands as one trace, with the command and request ids on the server span', async () => {
      // The client's own trace: the service continues it (W3C traceparent).
      const clientTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const clientSpanId = '00f067aa0ba902b7';
      const { accessToken } = await signIn(service!.webUrl, 'tracing', {
        traceparent: `00-${clientTraceId}-${clientSpanId}-01`,
        'x-request-id': 'tracing-e2e-login-1',
      });
      const me = await fetch(`${service!.webUrl}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(me.status).toBe(200);

      const loginSpan = await waitFor('the login request span', () =>
        receiver.spans().find((span) => span.kind === SPAN_KIND_SERVER && span.traceId === clientTraceId),
      );
      expect(loginSpan.parentSpanId).toBe(clientSpanId);
      expect(loginSpan.name).toBe('POST /auth/login');
      expect(loginSpan.attrs).toMatchObject({ 'http.route': '/auth/login', 'http.request.method': 'POST', 'http.response.status_code': 200 });
      expect(loginSpan.attrs).toMatchObject({ 'app.command.name': 'user.login', 'app.command.outcome': 'succeeded', 'app.request_id': 'tracing-e2e-login-1' });
      expect(loginSpan.resource['service.name']).toBe('session-revocation-service');

      // The correlation id is the audit trail's: the login's Attempted and Succeeded entries carry it.
      const correlationId = loginSpan.attrs['app.command.correlation_id'];
      expect(typeof correlationId).toBe('string');
      const audit = await sql<{ action: string; outcome: string }>(
        database.url,
        'SELECT action, outcome FROM sessions.audit_entries WHERE correlation_id = $1 ORDER BY outcome',
        [correlationId],
      );
      expect(audit).toEqual([
        { action: 'user.login', outcome: 'attempted' },
        { action: 'user.login', outcome: 'succeeded' },
      ]);
      const commandEvents = (loginSpan.events ?? []).filter((event) => event.name === 'app.command').map((event) => plain(event.attributes));
      expect(commandEvents).toEqual([
        { 'app.command.name': 'user.login', 'app.command.correlation_id': correlationId, 'app.command.outcome': 'attempted' },
        { 'app.command.name': 'user.login', 'app.command.correlation_id': correlationId, 'app.command.outcome': 'succeeded' },
      ]);

      const meSpan = await waitFor('the /auth/me request span', () =>
        receiver.spans().find((span) => span.kind === SPAN_KIND_SERVER && span.name === 'GET /auth/me'),
      );
      expect(meSpan.traceId).not.toBe(clientTraceId);
      expect(meSpan.parentSpanId ?? '').toBe('');

      // Each trace: every parent is a span of the same trace, and every span descends from the server span.
      for (const server of [loginSpan, meSpan]) {
        const trace = await waitFor(`the SQL and Redis spans of ${server.name}`, () => {
          const spans = receiver.spans().filter((span) => span.traceId === server.traceId);
          const sqlSpans = spans.filter((span) => span.attrs['db.system'] === 'postgresql' || span.attrs['db.system.name'] === 'postgresql');
          const redisSpans = spans.filter((span) => span.attrs['db.system'] === 'redis' || span.attrs['db.system.name'] === 'redis');
          return (server === meSpan || sqlSpans.length > 0) && redisSpans.length > 0 ? { spans, sqlSpans, redisSpans } : undefined;
        });
        const byId = new Map(trace.spans.map((span) => [span.spanId, span]));
        const rootOf = (span: ReceivedSpan): ReceivedSpan => {
          let current = span;
          for (let hops = 0; current.spanId !== server.spanId && hops < 50; hops += 1) {
            const parent = byId.get(current.parentSpanId ?? '');
            if (!parent)
              throw new Error(`span ${current.name} (${current.spanId}) has parent ${current.parentSpanId}, which is not in trace ${server.traceId}`);
            current = parent;
          }
          return current;
        };
        for (const span of [...trace.sqlSpans, ...trace.redisSpans]) {
          expect(span.kind).toBe(SPAN_KIND_CLIENT);
          expect(rootOf(span).spanId).toBe(server.spanId);
        }
        if (server === loginSpan) {
          expect(trace.sqlSpans.map((span) => span.scope)).toContain('@opentelemetry/instrumentation-pg');
          expect(trace.sqlSpans.some((span) => /audit_entries/.test(String(span.attrs['db.query.text'] ?? span.attrs['db.statement'])))).toBe(true);
        }
        expect(trace.redisSpans.map((span) => span.scope)).toContain('@opentelemetry/instrumentation-redis');
        // Keys and values (user and session ids, session state) stay out of the spans.
        for (const span of trace.redisSpans)
          expect(String(span.attrs['db.query.text'] ?? span.attrs['db.statement'])).toMatch(/^[A-Z.]+( \[\d+ arguments?\])?$/i);
      }

      // Health probes are not traced.
      expect(receiver.spans().filter((span) => span.kind === SPAN_KIND_SERVER && String(span.attrs['url.path']).startsWith('/health'))).toEqual([]);
      expect(receiver.requests.every((request) => request.path === '/v1/traces' && request.contentType === 'application/json')).toBe(true);
    });

    it('exports the spans still buffered when it is stopped', async () => {
      // A batch delay far longer than the test: only the shutdown can send what this request makes.
      await service!.restart({ OTEL_BSP_SCHEDULE_DELAY: '600000' });
      const before = receiver.requests.length;
      const answered = await fetch(`${service!.webUrl}/auth/me`, { headers: { 'x-request-id': 'tracing-e2e-last' } });
      expect(answered.status).toBe(401);
      const lastSpan = () => receiver.spans().find((span) => span.kind === SPAN_KIND_SERVER && span.attrs['app.request_id'] === 'tracing-e2e-last');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(lastSpan()).toBeUndefined();
      expect(receiver.requests.length).toBe(before);
      await service!.stop();
      expect(lastSpan()?.name).toBe('GET /auth/me');
      // The same module report the tracing-off runs use shows the SDK when it is on.
      expect(openTelemetryModules(report.loaded()).some((file) => file.includes(`${path.sep}sdk-node${path.sep}`))).toBe(true);
    });
  });

  it('refuses to start with an invalid tracing variable, naming it', async () => {
    const started = ServiceProcess.start({
      label: 'tracing-invalid',
      databaseUrl: database.url,
      redisUrl: TEST_REDIS_URL,
      cachePrefix: prefix,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_SAMPLER: 'sometimes' },
    });
    await expect(started).rejects.toThrow(/exited during start-up \(1\)[\s\S]*OTEL_TRACES_SAMPLER must be one of/);
  });

  it('serves as usual when the receiver is unreachable, and says so in its own log format', async () => {
    const service = await ServiceProcess.start({
      label: 'tracing-unreachable',
      // src/main.js, the web API alone: its entry point loads the preload too.
      apps: 'web',
      databaseUrl: database.url,
      redisUrl: TEST_REDIS_URL,
      cachePrefix: prefix,
      // Nothing listens there.
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, OTEL_BSP_SCHEDULE_DELAY: '200' },
    });
    try {
      const { accessToken } = await signIn(service.webUrl, 'unreachable');
      expect((await fetch(`${service.webUrl}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
      // The exporter retries with backoff before it gives up on a batch.
      const failure = await waitFor(
        'the export failure in the log',
        () => service.structuredLogs().find(({ line }) => line.json?.context === 'OpenTelemetry'),
        30_000,
        100,
      );
      expect(failure.line.json).toMatchObject({ level: 'error', msg: expect.stringMatching(/^Error ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+$/) });
    } finally {
      await service.stop();
    }
  });

  describe('switched off', () => {
    const cases: ReadonlyArray<{ title: string; env: (endpoint: string) => Record<string, string> }> = [
      { title: 'no OTEL variable at all', env: () => ({}) },
      { title: 'an endpoint set but OTEL_SDK_DISABLED=true', env: (endpoint) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' }) },
      { title: 'an endpoint set but OTEL_TRACES_EXPORTER=none', env: (endpoint) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' }) },
    ];

    it.each(cases)('with $title: loads no OpenTelemetry SDK, instrumentation or exporter and sends nothing', async ({ env }) => {
      const receiver = new OtlpReceiver();
      const endpoint = await receiver.start();
      const report = moduleReport(mkdtempSync(path.join(workDir, 'off-')));
      const service = await ServiceProcess.start({
        label: 'tracing-off',
        databaseUrl: database.url,
        redisUrl: TEST_REDIS_URL,
        cachePrefix: prefix,
        env: { ...env(endpoint), OTEL_BSP_SCHEDULE_DELAY: '200', NODE_OPTIONS: report.nodeOptions },
      });
      try {
        const { accessToken } = await signIn(service.webUrl, 'untraced');
        expect((await fetch(`${service.webUrl}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
      } finally {
        await service.stop();
        await receiver.stop();
      }
      expect(report.loaded().length).toBeGreaterThan(100);
      // The API package alone is a no-op facade: prom-client's process CPU metric imports it for
      // exemplars. No SDK, instrumentation or exporter may load.
      expect(openTelemetryModules(report.loaded()).filter((file) => !file.includes(`${path.sep}@opentelemetry${path.sep}api${path.sep}`))).toEqual([]);
      expect(receiver.requests).toEqual([]);
    });
  });
});
