/**
 * The OpenTelemetry variables the service reads, their checks and the on/off switch. Plain code
 * with no imports: the tracing preload runs it before any instrumented module is loaded, and the
 * environment schema (config/environment.ts) runs the same checks so that a bad value stops
 * start-up with the variable's name.
 *
 * Tracing is on when an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or a traces exporter (OTEL_TRACES_EXPORTER) is set, unless
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. Otherwise the SDK is never loaded.
 */

export const TRACES_EXPORTERS = ['otlp', 'console', 'none'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export const TRACES_SAMPLERS = [
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'always_on',
  'always_off',
  'traceidratio',
] as const;

/** The service name spans carry when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
export const DEFAULT_SERVICE_NAME = 'session-revocation-service';

/** In the order of `.env.example`; the SDK's own defaults are written as an operator would. */
export const TRACING_VARIABLES = [
  { name: 'OTEL_SDK_DISABLED', default: 'false', description: 'true keeps tracing off whatever else is set' },
  {
    name: 'OTEL_TRACES_EXPORTER',
    description: `Traces exporters, comma-separated: ${TRACES_EXPORTERS.join(', ')}; setting it (other than none) turns tracing on; unset with an OTLP endpoint set means otlp`,
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    description: 'Base http(s) URL of the OTLP receiver (traces go to <url>/v1/traces over HTTP); setting it turns tracing on',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    description: 'Full http(s) URL for traces, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT; setting it turns tracing on',
  },
  { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', default: 'http/protobuf', description: `OTLP transport: ${OTLP_PROTOCOLS.join(', ')}` },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', description: 'OTLP transport for traces; wins over OTEL_EXPORTER_OTLP_PROTOCOL' },
  { name: 'OTEL_EXPORTER_OTLP_HEADERS', description: 'Headers sent to the OTLP receiver, key=value pairs separated by commas (e.g. an API key)' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', description: 'Headers for traces only, key=value pairs separated by commas' },
  { name: 'OTEL_SERVICE_NAME', default: DEFAULT_SERVICE_NAME, description: 'service.name of every span' },
  { name: 'OTEL_RESOURCE_ATTRIBUTES', description: 'More resource attributes, key=value pairs separated by commas (e.g. deployment.environment.name=staging)' },
  { name: 'OTEL_TRACES_SAMPLER', default: 'parentbased_always_on', description: `Sampler: ${TRACES_SAMPLERS.join(', ')}` },
  { name: 'OTEL_TRACES_SAMPLER_ARG', description: 'Ratio of traces kept by the traceidratio samplers, 0 to 1 (default 1)' },
] as const;

export type TracingVariableName = (typeof TRACING_VARIABLES)[number]['name'];

type Env = Readonly<Record<string, string | undefined>>;

/** Empty counts as unset, as for every other variable of the service. */
function valueOf(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function quoted(value: string): string {
  return `(got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)})`;
}

const listOf = (value: string) => value.split(',').map((entry) => entry.trim());

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** `key=value,key2=value2`, as the OpenTelemetry specification writes headers and resource attributes. */
function isKeyValueList(value: string): boolean {
  return listOf(value).every((pair) => {
    const at = pair.indexOf('=');
    return at > 0 && pair.slice(0, at).trim() !== '';
  });
}

/**
 * The problem with one tracing variable's value, or undefined when it is fine or unset. URLs and
 * headers are never quoted: they may carry credentials.
 */
export function tracingVariableProblem(name: TracingVariableName, raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (value === undefined || value === '') return undefined;
  switch (name) {
    case 'OTEL_SDK_DISABLED':
      return ['true', 'false'].includes(value.toLowerCase()) ? undefined : `${name} must be true or false ${quoted(value)}`;
    case 'OTEL_TRACES_EXPORTER': {
      const known: readonly string[] = TRACES_EXPORTERS;
      return listOf(value).every((entry) => known.includes(entry))
        ? undefined
        : `${name} must be one or more of ${TRACES_EXPORTERS.join(', ')}, separated by commas ${quoted(value)}`;
    }
    case 'OTEL_EXPORTER_OTLP_ENDPOINT':
    case 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT':
      return isHttpUrl(value) ? undefined : `${name} must be an http:// or https:// URL`;
    case 'OTEL_EXPORTER_OTLP_PROTOCOL':
    case 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL': {
      const known: readonly string[] = OTLP_PROTOCOLS;
      return known.includes(value) ? undefined : `${name} must be one of ${OTLP_PROTOCOLS.join(', ')} ${quoted(value)}`;
    }
    case 'OTEL_EXPORTER_OTLP_HEADERS':
    case 'OTEL_EXPORTER_OTLP_TRACES_HEADERS':
      return isKeyValueList(value) ? undefined : `${name} must be key=value pairs separated by commas`;
    case 'OTEL_RESOURCE_ATTRIBUTES':
      return isKeyValueList(value) ? undefined : `${name} must be key=value pairs separated by commas ${quoted(value)}`;
    case 'OTEL_SERVICE_NAME':
      return undefined;
    case 'OTEL_TRACES_SAMPLER': {
      const known: readonly string[] = TRACES_SAMPLERS;
      return known.includes(value) ? undefined : `${name} must be one of ${TRACES_SAMPLERS.join(', ')} ${quoted(value)}`;
    }
    case 'OTEL_TRACES_SAMPLER_ARG': {
      const ratio = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
      return ratio >= 0 && ratio <= 1 ? undefined : `${name} must be a number from 0 to 1 ${quoted(value)}`;
    }
  }
}

/** Every problem with the tracing variables of `env`, one per variable. */
export function tracingProblems(env: Env): string[] {
  return TRACING_VARIABLES.flatMap(({ name }) => {
    const problem = tracingVariableProblem(name, env[name]);
    return problem === undefined ? [] : [problem];
  });
}

export type TracingSwitch = { readonly enabled: true } | { readonly enabled: false; readonly why: string };

/** Whether tracing runs for this environment (see the module comment), and why not. */
export function tracingSwitch(env: Env): TracingSwitch {
  if (valueOf(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false, why: 'OTEL_SDK_DISABLED=true' };
  const exporters = valueOf(env, 'OTEL_TRACES_EXPORTER');
  if (exporters !== undefined && listOf(exporters).every((entry) => entry === 'none')) return { enabled: false, why: 'OTEL_TRACES_EXPORTER=none' };
  const endpoint = valueOf(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? valueOf(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (exporters === undefined && endpoint === undefined) return { enabled: false, why: 'no OTLP endpoint and no OTEL_TRACES_EXPORTER set' };
  const problems = tracingProblems(env);
  if (problems.length > 0) return { enabled: false, why: `invalid configuration: ${problems.join('; ')}` };
  return { enabled: true };
}
