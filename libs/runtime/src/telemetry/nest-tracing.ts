import { AuditableEvent } from '@app/sessions';
import { CanActivate, ExecutionContext, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { trace } from '@opentelemetry/api';
import type { Subscription } from 'rxjs';
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
      // Express's matched route, or Fastify's.
      const route = request.route?.path ?? request.routeOptions?.url;
      if (typeof route === 'string' && route !== '') {
        span.setAttribute('http.route', route);
        span.updateName(`${request.method ?? 'HTTP'} ${route}`);
      }
    }
    return true;
  }
}
