import { tracingProblems, tracingSwitch, tracingVariableProblem } from './tracing-environment';

describe('tracingSwitch', () => {
  it('is off with no OpenTelemetry variable', () => {
    expect(tracingSwitch({})).toEqual({ enabled: false, why: 'no OTLP endpoint and no OTEL_TRACES_EXPORTER set' });
    // The SDK's other variables alone do not turn it on.
    expect(tracingSwitch({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_on' }).enabled).toBe(false);
    // Blank values count as unset (a copied .env.example).
    expect(tracingSwitch({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: '  ' }).enabled).toBe(false);
  });

  it('is on with an OTLP endpoint or a traces exporter', () => {
    expect(tracingSwitch({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ enabled: true });
    expect(tracingSwitch({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/v1/traces' })).toEqual({ enabled: true });
    expect(tracingSwitch({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ enabled: true });
    expect(tracingSwitch({ OTEL_TRACES_EXPORTER: 'console' })).toEqual({ enabled: true });
    expect(tracingSwitch({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'false' })).toEqual({ enabled: true });
  });

  it('is off when disabled, whatever else is set', () => {
    expect(tracingSwitch({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toEqual({
      enabled: false,
      why: 'OTEL_SDK_DISABLED=true',
    });
    expect(tracingSwitch({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toEqual({
      enabled: false,
      why: 'OTEL_TRACES_EXPORTER=none',
    });
  });

  it('stays off for an invalid value, which the environment check then reports', () => {
    const decision = tracingSwitch({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' });
    expect(decision).toEqual({
      enabled: false,
      why: 'invalid configuration: OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json, grpc (got "thrift")',
    });
  });
});

describe('tracingProblems', () => {
  it('accepts the values the SDK understands', () => {
    expect(
      tracingProblems({
        OTEL_SDK_DISABLED: 'false',
        OTEL_TRACES_EXPORTER: 'otlp,console',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc, x-tenant=1',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toEqual([]);
  });

  it('names each bad variable, and never quotes URLs or headers', () => {
    expect(
      tracingProblems({
        OTEL_SDK_DISABLED: 'yes',
        OTEL_TRACES_EXPORTER: 'otlp,jaeger',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://user:secret@collector/traces',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '1.5',
      }),
    ).toEqual([
      'OTEL_SDK_DISABLED must be true or false (got "yes")',
      'OTEL_TRACES_EXPORTER must be one or more of otlp, console, none, separated by commas (got "otlp,jaeger")',
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:// or https:// URL',
      'OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas',
      'OTEL_TRACES_SAMPLER must be one of parentbased_always_on, parentbased_always_off, parentbased_traceidratio, always_on, always_off, traceidratio (got "sometimes")',
      'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got "1.5")',
    ]);
    expect(tracingVariableProblem('OTEL_TRACES_SAMPLER_ARG', '-0.1')).toBeDefined();
    expect(tracingVariableProblem('OTEL_TRACES_SAMPLER_ARG', '1')).toBeUndefined();
    expect(tracingVariableProblem('OTEL_RESOURCE_ATTRIBUTES', '=x')).toBe('OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas (got "=x")');
  });
});
