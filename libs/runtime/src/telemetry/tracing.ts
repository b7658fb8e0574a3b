import { tracingSwitch, type TracingSwitch } from './tracing-environment';

/**
 * Whether this process traces, and the SDK's shutdown. Nothing here imports OpenTelemetry: the
 * SDK module is required only when tracing is switched on, so a process without the OTEL_*
 * variables never loads it.
 */
let active: { shutdown(): Promise<void> } | undefined;

/** Starts the SDK if the environment turns tracing on (see tracing-environment.ts); once per process. */
export function startTracingIfConfigured(env: NodeJS.ProcessEnv = process.env): TracingSwitch {
  const decision = tracingSwitch(env);
  if (!decision.enabled || active) return decision;
  // Deferred on purpose: importing it at the top would load the SDK in every process.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous: the SDK must hook the modules before they load
  const { startSdk } = require('./tracing-sdk') as typeof import('./tracing-sdk');
  active = startSdk(env);
  return decision;
}

export function isTracingActive(): boolean {
  return active !== undefined;
}

/** Exports the spans still buffered and stops the SDK; waits at most `timeoutMs`. */
export async function shutdownTracing(timeoutMs = 5_000): Promise<void> {
  const sdk = active;
  if (!sdk) return;
  active = undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([sdk.shutdown().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
