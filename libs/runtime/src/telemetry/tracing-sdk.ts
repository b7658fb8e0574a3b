import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_SERVICE_NAME } from './tracing-environment';
import { ATTR_REQUEST_ID, redisStatement, requestIdOf } from './span-attributes';

/**
 * The OpenTelemetry SDK with the instrumentations this service needs. Loaded (by tracing.ts) only
 * when tracing is on, and before the instrumented modules (node:http, pg, @redis/client) are.
 *
 * The exporter, endpoint, protocol, headers, sampler and resource come from the standard OTEL_*
 * variables, read by the SDK itself. Only traces are exported: metrics and logs stay off here.
 */
export function startSdk(env: NodeJS.ProcessEnv): { shutdown(): Promise<void> } {
  const namedByOperator = env.OTEL_SERVICE_NAME?.trim() || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    // The SDK's own default is "unknown_service:node"; an operator's name wins over this one.
    ...(namedByOperator ? {} : { serviceName: DEFAULT_SERVICE_NAME }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes would be most of the traces and say nothing; their database checks are skipped with them.
        ignoreIncomingRequestHook: (request) => isHealthProbe(request),
        applyCustomAttributesOnSpan: (span, request, response) => {
          // Server spans only: there the request is an IncomingMessage and the response a ServerResponse.
          if (!('headers' in request) || !('getHeader' in response)) return;
          const requestId = requestIdOf(request, response);
          if (requestId !== undefined) span.setAttribute(ATTR_REQUEST_ID, requestId);
        },
      }),
      // Only inside a traced request: background work (heartbeats, recovery, LISTEN) would be noise at the root.
      new PgInstrumentation({ requireParentSpan: true }),
      new RedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
    ],
  });
  sdk.start();
  return sdk;
}

function isHealthProbe(request: IncomingMessage): boolean {
  const path = request.url?.split('?')[0];
  return request.method === 'GET' && (path === '/health' || path?.startsWith('/health/') === true);
}
