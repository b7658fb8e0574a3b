import { INestApplication, Logger } from '@nestjs/common';
import { Runtime } from './runtime';
import { shutdownTracing } from './telemetry/tracing';

export interface Listener {
  readonly name: string;
  readonly app: INestApplication;
  readonly port: number;
}

/**
 * Starts the apps and, on SIGINT or SIGTERM, closes them (in-flight requests and pending
 * audit writes finish first), then the runtime's database, then exports the spans still buffered.
 */
export async function serve(runtime: Runtime, listeners: readonly Listener[]): Promise<void> {
  const logger = new Logger('Server');
  const host = runtime.settings.http.host;
  for (const { name, app, port } of listeners) {
    await app.listen(port, host);
    logger.log(`${name} listening on http://${host}:${port} (OpenAPI at /docs)`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: closing`);
    await Promise.allSettled(listeners.map(({ app }) => app.close()));
    await runtime.close();
    await shutdownTracing();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** Start-up failures print one clear line (a bad setting names itself) and exit non-zero. */
export function exitOnStartupFailure(error: unknown): never {
  console.error(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
