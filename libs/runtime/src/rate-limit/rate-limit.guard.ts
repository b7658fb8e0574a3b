import { ApiProblem } from '@app/platform';
import { type AuthenticatedRequest, bearerTokenOf, clientIp, normalizeEmail, SessionAuthenticator, SessionDirectory } from '@app/sessions';
import { applyDecorators, ExecutionContext, Inject, Injectable, Optional, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  normalizeIp,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { APP_METRICS, type AppMetrics, routeLabelOf } from '../metrics/app-metrics';

/**
 * Names of the throttlers the app registers with ThrottlerModule. Public routes (RateLimited) use
 * `ip` and `account`; authenticated routes (RateLimitedPerUser) use `user` and `user-ip`.
 */
export const RateLimitThrottlers = { perIp: 'ip', perAccount: 'account', perUser: 'user', perUserIp: 'user-ip' } as const;

/**
 * The body field that names the account a public request is about: `token` is RFC 7009's (a
 * refresh or an access token); `none`: limited per client IP only.
 */
export type AccountKeySource = 'email' | 'refreshToken' | 'token' | 'none';

/** Revocations are limited too (each writes the audit trail), but this many times more generously. */
export const REVOCATION_LIMIT_FACTOR = 5;

type RouteLimit =
  | { readonly kind: 'public'; readonly account: AccountKeySource; readonly exemptLiveToken: boolean }
  | { readonly kind: 'user'; readonly factor: number; readonly budget: string | undefined };

const ROUTE_LIMIT = 'sessions:rate-limit:route';

/**
 * The per-account tracker of a request body, before validation (guards run before pipes):
 * the normalized email, or a SHA-256 prefix of the token (never the token itself).
 * Null when the field is missing or not a string; the validation pipe then answers 400.
 */
export function accountTracker(body: unknown, source: AccountKeySource): string | null {
  if (source === 'none') return null;
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[source] : undefined;
  if (typeof value !== 'string') return null;
  if (source === 'email') {
    const email = normalizeEmail(value);
    return email === '' ? null : `email:${email}`;
  }
  const kind = source === 'token' ? 'token' : 'refresh-token';
  return value === '' ? null : `${kind}:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * @nestjs/throttler's guard with this service's keys and a standard answer:
 * - `ip` and `user-ip` track the client IP the audit trail records (clientIp: Express's
 *   `trust proxy` answer when it is an IP address, else the socket's), IPv6 per /64;
 * - `account` tracks the account named in the body (see accountTracker);
 * - `user` tracks the authenticated user, so one account cannot flood the audit trail from many addresses;
 * - a refusal is a 429 problem with a `Retry-After` header in seconds (the library would name
 *   it `Retry-After-ip` for a named throttler, which no client understands).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly directory: SessionDirectory,
    private readonly authenticator: SessionAuthenticator,
    @Optional() @Inject(APP_METRICS) private readonly appMetrics?: AppMetrics,
  ) {
    super(options, storage, reflector);
  }

  /** Counts the 429s answered (a per-IP refusal that a live logout token lifts is not one). */
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await this.limit(request);
    } catch (error) {
      if (error instanceof ThrottlerException && this.appMetrics) {
        const { app, metrics } = this.appMetrics;
        metrics.rateLimited.inc({ app, limiter: request.throttler.name ?? 'default', route: routeLabelOf(this.getRequestResponse(request.context).req) });
      }
      throw error;
    }
  }

  private async limit(request: ThrottlerRequest): Promise<boolean> {
    const route = this.reflector.get<RouteLimit | undefined>(ROUTE_LIMIT, request.context.getHandler());
    if (!route) return true;
    const name = request.throttler.name;
    const req = this.getRequestResponse(request.context).req as AuthenticatedRequest & { body?: unknown };
    if (route.kind === 'user') {
      if (name !== RateLimitThrottlers.perUser && name !== RateLimitThrottlers.perUserIp) return true;
      const session = req.authenticated;
      if (!session) throw new Error('RateLimitedPerUser must run after AccessTokenGuard (put it above the guard)');
      const limit = request.limit * route.factor;
      const generateKey = route.budget === undefined ? request.generateKey : sharedBudgetKey(route.budget);
      if (name === RateLimitThrottlers.perUserIp) return super.handleRequest({ ...request, limit, generateKey });
      return super.handleRequest({ ...request, limit, generateKey, getTracker: () => `user:${session.userId}` });
    }
    if (name === RateLimitThrottlers.perAccount) {
      const tracker = accountTracker(req.body, route.account);
      if (tracker === null) return true;
      return super.handleRequest({ ...request, getTracker: () => tracker });
    }
    if (name !== RateLimitThrottlers.perIp) return true;
    if (!route.exemptLiveToken) return super.handleRequest(request);
    try {
      return await super.handleRequest(request);
    } catch (error) {
      // A neighbour on the same address (a NAT, a proxy) must never block a logout that works:
      // past the per-IP limit, only requests whose token would end nothing are refused.
      if (!(error instanceof ThrottlerException) || !(await this.carriesLiveToken(req))) throw error;
      // Fastify's reply and Node's ServerResponse both have removeHeader.
      request.context.switchToHttp().getResponse<{ removeHeader(name: string): unknown }>().removeHeader('Retry-After');
      return true;
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ThrottlerGuard.getTracker's own signature
  protected override async getTracker(request: Record<string, any>): Promise<string> {
    return normalizeIp(clientIp(request) ?? 'unknown', this.ipv6SubnetPrefix);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    this.setResponseHeader(this.getRequestResponse(context).res, 'Retry-After', retryAfter);
    throw new ThrottlerException(`Too many requests; try again in ${retryAfter} s`);
  }

  /** A refresh token of a session that is still live (rotated away or not), or a valid Bearer token. */
  private async carriesLiveToken(req: AuthenticatedRequest & { body?: unknown }): Promise<boolean> {
    const body = req.body as Record<string, unknown> | undefined;
    const refreshToken = body && typeof body === 'object' ? body.refreshToken : undefined;
    if (typeof refreshToken === 'string' && (await this.directory.refreshTokenSessionIsLive(refreshToken))) return true;
    const bearer = bearerTokenOf(req);
    return bearer !== null && (await this.authenticator.authenticate(bearer)) !== null;
  }
}

/**
 * The storage key of routes that share one budget (`RateLimitedPerUser({ budget })`): two routes
 * that do the same thing (a DELETE and its POST twin) count together instead of each on its own,
 * as the throttler's default key (class and handler name) would.
 */
function sharedBudgetKey(budget: string): (context: ExecutionContext, tracker: string, throttlerName: string) => string {
  return (context, tracker, throttlerName) =>
    createHash('sha256').update(`${context.getClass().name}-budget:${budget}-${throttlerName}-${tracker}`).digest('hex');
}

/** The 429 problem, with its Retry-After header. */
const TOO_MANY_REQUESTS = (description: string) => ApiProblem(429, `${description}; wait for Retry-After seconds`);

export interface RateLimitedOptions {
  /**
   * Logout: past the per-IP limit, still let through a request whose refresh token belongs to a
   * live session or whose Bearer token is valid (see RateLimitGuard).
   */
  readonly exemptLiveToken?: boolean;
}

/**
 * Limits a public route per client IP and per account (the given body field, or none), with
 * limits shared by every instance. Put it last among a route's decorators, so it runs before its other guards.
 */
export function RateLimited(account: AccountKeySource, options: RateLimitedOptions = {}): MethodDecorator {
  const route: RouteLimit = { kind: 'public', account, exemptLiveToken: options.exemptLiveToken ?? false };
  return applyDecorators(
    TOO_MANY_REQUESTS(account === 'none' ? 'Too many requests from this address' : 'Too many requests from this address or for this account'),
    SetMetadata(ROUTE_LIMIT, route),
    UseGuards(RateLimitGuard),
  );
}

/**
 * Limits an authenticated route per user and per client IP (`revocation`: REVOCATION_LIMIT_FACTOR
 * times more generously). It needs the authenticated session: put it ABOVE the route's
 * `@UseGuards(AccessTokenGuard)` (or under a class-level one), so it runs after that guard.
 * Routes given the same `budget` (in one controller) count together: two spellings of one action
 * must not double what a user may do.
 */
export function RateLimitedPerUser(options: { readonly revocation?: boolean; readonly budget?: string } = {}): MethodDecorator {
  const route: RouteLimit = { kind: 'user', factor: options.revocation ? REVOCATION_LIMIT_FACTOR : 1, budget: options.budget };
  return applyDecorators(TOO_MANY_REQUESTS('Too many requests from this user or this address'), SetMetadata(ROUTE_LIMIT, route), UseGuards(RateLimitGuard));
}
