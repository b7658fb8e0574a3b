import { AuditableEvent } from '@app/sessions';
import { CanActivate, ExecutionContext, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import type { Subscription } from 'rxjs';
import { routeTemplateOf } from '../http/routed-request';
import { ATTR_COMMAND_NAME, ATTR_COMMAND_OUTCOME, ATTR_CORRELATION_ID, COMMAND_EVENT } from './span-attributes';

/**
 * Puts each audited command on the span active when it runs (the request's server span): its
 * name and correlation id when it starts (the Attempted event), its outcome when it ends. The
 * sessions library knows nothing of tracing: this only listens to the events it publishes, which
 * the CQRS EventBus delivers synchronously, in the command's own async context.
 *
 * Loaded only when tracing is on (core.module.ts).
 */
@Injectable()
export class CommandSpanAttributes implements OnModuleInit, OnModuleDestroy {
  private subscription: Subscription | undefined;

  constructor(private readonly eventBus: EventBus) {}

  onModuleInit(): void {
    this.subscription = this.eventBus.subscribe((event) => {
      if (event instanceof AuditableEvent) recordOnActiveSpan(event);
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}

function recordOnActiveSpan(event: AuditableEvent): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  if (event.outcome === 'attempted') {
    span.setAttributes({ [ATTR_COMMAND_NAME]: event.action, [ATTR_CORRELATION_ID]: event.correlationId });
  } else {
    span.setAttribute(ATTR_COMMAND_OUTCOME, event.outcome);
  }
  span.addEvent(COMMAND_EVENT, { [ATTR_COMMAND_NAME]: event.action, [ATTR_CORRELATION_ID]: event.correlationId, [ATTR_COMMAND_OUTCOME]: event.outcome });
}

/**
 * Names the request's server span after the matched route (`POST /auth/login` instead of `POST`)
 * and sets http.route, for Express and Fastify alike: the instrumentation sees only node:http.
 * A global guard, because global guards run first: a request that a later guard refuses (401,
 * 429) is named too. It never refuses anything.
 */
@Injectable()
export class RouteSpanGuard implements CanActivate {
  canActivate(context: ExecutionContext): true {
    const span = trace.getActiveSpan();
    if (span && context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<{ method?: string; route?: { path?: unknown }; routeOptions?: { url?: unknown } }>();
      const route = routeTemplateOf(request);
      if (route) {
        span.setAttribute('http.route', route);
        span.updateName(`${request.method ?? 'HTTP'} ${route}`);
      }
    }
    return true;
  }
}

/**
 * The SDK's own warnings and errors (an export the receiver refused or never answered, spans
 * dropped from a full queue) go to the apps' logger, in its format (JSON lines in production),
 * instead of nowhere. OTEL_LOG_LEVEL, when set, leaves the SDK's console logger in charge.
 */
@Injectable()
export class TracingDiagnostics implements OnModuleInit {
  onModuleInit(): void {
    if (process.env.OTEL_LOG_LEVEL?.trim()) return;
    const logger = new Logger('OpenTelemetry');
    const text = (message: string, args: unknown[]) =>
      [readable(message), ...args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : JSON.stringify(arg)))].join(' ');
    diag.setLogger(
      {
        error: (message, ...args) => logger.error(text(message, args)),
        warn: (message, ...args) => logger.warn(text(message, args)),
        info: (message, ...args) => logger.log(text(message, args)),
        debug: (message, ...args) => logger.debug(text(message, args)),
        verbose: (message, ...args) => logger.verbose(text(message, args)),
      },
      // Both apps of one process install it: the second replaces the first without a word.
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
  }
}

/** The SDK reports a failed export as the error serialised to JSON, stack included: keep its name, code and message. */
function readable(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const error = JSON.parse(message) as { name?: unknown; message?: unknown; code?: unknown };
    if (typeof error.message !== 'string') return message;
    return `${typeof error.name === 'string' ? error.name : 'Error'}${typeof error.code === 'string' ? ` ${error.code}` : ''}: ${error.message}`;
  } catch {
    return message;
  }
}
