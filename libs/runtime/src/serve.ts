import { INestApplication, Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentProcessLogger } from './logging/app-logger';
import { Runtime } from './runtime';
import { DEFAULT_SHUTDOWN } from './runtime-settings';
import { shutdownTracing } from './telemetry/tracing';

export interface Listener {
  readonly name: string;
  readonly app: INestApplication;
  readonly port: number;
}

/**
 * A repeated signal this soon after the first is the same request: `npm start` forwards the
 * terminal's SIGINT to the process, which the terminal sent it too, so one Ctrl-C arrives twice.
 */
const REPEATED_SIGNAL_MS = 1_000;

/**
 * An app's HTTP server, seen on the Node server (so whatever the framework): the requests it has
 * received and not yet finished answering, and its close.
 */
class HttpServerDrain {
  private readonly open = new Set<ServerResponse>();
  private closing = false;

  constructor(private readonly server: Server) {
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.open.add(response);
      response.once('close', () => this.open.delete(response));
      if (this.closing) response.setHeader('Connection', 'close');
    });
  }

  get inFlight(): number {
    return this.open.size;
  }

  /**
   * Stops accepting connections and resolves once the requests in flight are answered and their
   * connections closed. Every answer not yet sent says `Connection: close`: a keep-alive
   * connection would otherwise hold the close until its idle timeout, and the client is better off
   * reconnecting to an instance that stays.
   *
   * This runs before `app.close()`, not inside it: Nest runs the modules' destroy hooks first and
   * closes the HTTP server only after them, and by then the CQRS buses no longer deliver events (a
   * request still running would lose its audit entries) and the cache connection is closed.
   */
  close(): Promise<void> {
    this.closing = true;
    for (const response of this.open) if (!response.headersSent) response.setHeader('Connection', 'close');
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type Phase = 'serving' | 'draining' | 'closing' | 'closed' | 'failed';

interface Served extends Listener {
  readonly http: HttpServerDrain;
  phase: Phase;
}

/**
 * Starts the apps and, on SIGTERM or SIGINT, shuts down in steps:
 *
 * 1. GET /health/ready answers 503 at once (every app of the process), GET /health/live still 200.
 * 2. Drain: the apps go on serving for SHUTDOWN_DRAIN_SECONDS, while load balancers notice the
 *    failing readiness probe and stop routing here.
 * 3. The apps close: they stop accepting connections, finish the requests in flight, then write
 *    the pending audit entries and close their cache connections.
 * 4. The runtime closes (the database pool, the embedded database), the spans still buffered are
 *    exported (when tracing is on), the metrics listener closes (last, so scrapes see the drain),
 *    and the process exits 0.
 *
 * SHUTDOWN_TIMEOUT_SECONDS bounds all of it from the signal: past it, the process logs what was
 * still pending and exits 1. Another SIGTERM or SIGINT during the shutdown (more than a second
 * after the first) ends the process at once, exit 1, with the same line.
 */
export async function serve(runtime: Runtime, listeners: readonly Listener[]): Promise<void> {
  const logger = new Logger('Server');
  const host = runtime.settings.http.host;
  const served: Served[] = listeners.map((listener) => ({ ...listener, http: new HttpServerDrain(listener.app.getHttpServer() as Server), phase: 'serving' }));
  for (const { name, app, port } of served) {
    await app.listen(port, host);
    logger.log(`${name} listening on http://${host}:${port} (OpenAPI at /docs)`);
  }
  const metricsListener = runtime.metricsListener;
  if (metricsListener) logger.log(`Metrics on http://${metricsListener.host}:${metricsListener.port}/metrics`);

  const { drainSeconds, timeoutSeconds } = runtime.settings.shutdown ?? DEFAULT_SHUTDOWN;
  let runtimePhase: Phase = 'serving';
  let tracingPhase: Phase = 'serving';
  let metricsPhase: Phase = 'serving';
  const pending = (): string[] => [
    ...served.filter((app) => app.phase !== 'closed').map((app) => `${app.name}: ${app.phase}, ${app.http.inFlight} request(s) in flight`),
    ...(runtimePhase === 'closed' ? [] : [`runtime (database pool): ${runtimePhase === 'serving' ? 'open' : runtimePhase}`]),
    ...(tracingPhase === 'closing' ? ['tracing: exporting the spans still buffered'] : []),
    ...(metricsListener && metricsPhase !== 'closed' ? [`metrics listener: ${metricsPhase === 'serving' ? 'open' : metricsPhase}`] : []),
  ];
  const exitUnfinished = (msg: string, detail: Record<string, unknown>): never => {
    logger.error({ msg, ...detail, pending: pending() });
    process.exit(1);
  };

  const shutdown = async (signal: string): Promise<void> => {
    runtime.lifecycle.beginShutdown();
    logger.log({ msg: 'shutdown_started', signal, drainSeconds, timeoutSeconds });
    // Not unref'd: a shutdown stuck on a handle that no longer keeps the loop alive must still end here.
    setTimeout(() => exitUnfinished('shutdown_timeout', { timeoutSeconds }), timeoutSeconds * 1_000);
    for (const app of served) app.phase = 'draining';
    if (drainSeconds > 0) await sleep(drainSeconds * 1_000);
    logger.log({ msg: 'shutdown_closing', inFlight: Object.fromEntries(served.map((app) => [app.name, app.http.inFlight])) });
    // Each app: no new connection, the requests in flight finish with everything still up; then
    // Nest's shutdown: its hooks write the queued audit entries and close the cache connection.
    await Promise.all(
      served.map(async (app) => {
        app.phase = 'closing';
        try {
          await app.http.close();
          await app.app.close();
          app.phase = 'closed';
        } catch (error) {
          app.phase = 'failed';
          logger.error({ msg: 'shutdown_app_close_failed', app: app.name, error: (error as Error).message });
        }
      }),
    );
    runtimePhase = 'closing';
    await runtime.close({ keepMetricsListener: true });
    runtimePhase = 'closed';
    // The spans still buffered, the requests' of the close included (bounded on its own).
    tracingPhase = 'closing';
    await shutdownTracing();
    tracingPhase = 'closed';
    // Last: a scrape during the drain and the close still answers, so the final one sees them.
    metricsPhase = 'closing';
    await metricsListener?.close();
    metricsPhase = 'closed';
    const failed = served.filter((app) => app.phase === 'failed').map((app) => app.name);
    if (failed.length > 0) exitUnfinished('shutdown_incomplete', { failed });
    logger.log({ msg: 'shutdown_complete', ms: Date.now() - (runtime.lifecycle.shutdownSince ?? Date.now()) });
    process.exit(0);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    const since = runtime.lifecycle.shutdownSince;
    if (since === undefined) {
      shutdown(signal).catch((error: unknown) => exitUnfinished('shutdown_failed', { error: (error as Error).message }));
      return;
    }
    if (Date.now() - since < REPEATED_SIGNAL_MS) return;
    exitUnfinished('shutdown_forced', { signal });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * Start-up failures write one clear line (a bad setting names itself), through the process's
 * logger (a production one when the environment itself was refused), and exit non-zero.
 */
export function exitOnStartupFailure(error: unknown): never {
  currentProcessLogger().pino.fatal({ context: 'Startup' }, `Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
