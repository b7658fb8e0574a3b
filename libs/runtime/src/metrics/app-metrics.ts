import { AuditableEvent, SessionDirectory, UserLoginFailed, UserLoginSucceeded, UserLogoutSucceeded, AllSessionsRevoked, SessionRevoked } from '@app/sessions';
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EventBus } from '@nestjs/cqrs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Subscription } from 'rxjs';
import { routedOf } from '../http/routed-request';
import { type AppName, loginOutcomeLabel, revocationReasonLabel, UNMATCHED_ROUTE } from './labels';
import type { RuntimeMetrics } from './runtime-metrics';

/** This app's name and the process's metrics, for the app's own providers (and the rate-limit guard). */
export interface AppMetrics {
  readonly app: AppName;
  readonly metrics: RuntimeMetrics;
}
export const APP_METRICS = Symbol('AppMetrics');

/** The route label of a request: its template once routed (RoutedRequestGuard), or `unmatched`. */
export function routeLabelOf(request: IncomingMessage | { raw?: IncomingMessage }): string {
  return routedOf(request)?.route ?? UNMATCHED_ROUTE;
}

/**
 * The request duration, measured on the app's Node HTTP server (so whatever the framework), from
 * its 'request' event to the close of its response: a request that reached no route (a 404, a
 * body refused before routing) is counted too, as route `unmatched`.
 */
@Injectable()
export class HttpDurationMetrics implements OnModuleInit {
  constructor(
    @Inject(APP_METRICS) private readonly appMetrics: AppMetrics,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    const { app, metrics } = this.appMetrics;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const started = process.hrtime.bigint();
      response.once('close', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpDuration.observe({ app, method: request.method ?? 'UNKNOWN', route: routeLabelOf(request), status: String(response.statusCode) }, seconds);
      });
    });
  }
}

/**
 * Logins, lockouts and revocations, counted from the events every command publishes (the
 * library's observer does not repeat them): a Succeeded event leaves only after its commit, so a
 * rolled-back revocation is never counted.
 */
@Injectable()
export class SessionEventMetrics implements OnModuleInit, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(
    @Inject(APP_METRICS) private readonly appMetrics: AppMetrics,
    private readonly eventBus: EventBus,
  ) {}

  onModuleInit(): void {
    this.subscription = this.eventBus.subscribe((event) => {
      if (event instanceof AuditableEvent) this.count(event);
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  private count(event: AuditableEvent): void {
    const { app, metrics } = this.appMetrics;
    if (event instanceof UserLoginSucceeded || event instanceof UserLoginFailed) {
      metrics.logins.inc({ app, outcome: loginOutcomeLabel(event.outcome, event.reason) });
      // The failure that engages a lock or a delay says so in its details (LoginUserHandler).
      if (event.details.lockedUntil !== undefined && event.details.failedAttempts !== undefined) metrics.lockouts.inc({ app, kind: 'lock' });
      if (event.details.delayedUntil !== undefined && event.details.emailFailures !== undefined) metrics.lockouts.inc({ app, kind: 'delay' });
      return;
    }
    // Every revocation goes through one of these three commands (SessionRevocations), whichever command asked for it.
    if (event instanceof UserLogoutSucceeded || event instanceof AllSessionsRevoked || event instanceof SessionRevoked) {
      const count = event.count ?? event.sessionIds.length;
      if (count > 0) metrics.revoked.inc({ app, reason: revocationReasonLabel(event.reason), actor_type: event.actor.type }, count);
    }
  }
}

/** Lets the outbox-depth gauge read through this app's SessionDirectory while the app runs. */
@Injectable()
export class OutboxDepthSource implements OnModuleInit, OnModuleDestroy {
  private unregister?: () => void;

  constructor(
    @Inject(APP_METRICS) private readonly appMetrics: AppMetrics,
    private readonly directory: SessionDirectory,
  ) {}

  onModuleInit(): void {
    this.unregister = this.appMetrics.metrics.addOutboxDepthSource(() => this.directory.queuedCacheMarkers());
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
