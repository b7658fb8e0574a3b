import { applyDecorators, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { normalizeIp, ThrottlerException, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerRequest } from '@nestjs/throttler';
import { hashRefreshToken } from '../domain/refresh-token';
import { normalizeEmail } from '../domain/session-rules';
import { clientIp } from './client-ip';

/** Names of the two throttlers the app registers with ThrottlerModule (see RateLimited). */
export const RateLimitThrottlers = { perIp: 'ip', perAccount: 'account' } as const;

/** The body field that names the account a request is about. */
export type AccountKeySource = 'email' | 'refreshToken';

const ACCOUNT_KEY_SOURCE = 'sessions:rate-limit:account-key-source';

/**
 * The per-account tracker of a request body, before validation (guards run before pipes):
 * the normalized email, or a SHA-256 prefix of the refresh token (never the token itself).
 * Null when the field is missing or not a string; the validation pipe then answers 400.
 */
export function accountTracker(body: unknown, source: AccountKeySource): string | null {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[source] : undefined;
  if (typeof value !== 'string') return null;
  if (source === 'email') {
    const email = normalizeEmail(value);
    return email === '' ? null : `email:${email}`;
  }
  return value === '' ? null : `refresh-token:${hashRefreshToken(value).toString('hex').slice(0, 32)}`;
}

/**
 * @nestjs/throttler's guard with this service's two keys and a standard answer:
 * - the `ip` throttler tracks the client IP the audit trail records (clientIp: Express's
 *   `trust proxy` answer when it is an IP address, else the socket's), IPv6 per /64;
 * - the `account` throttler tracks the account named in the body (see accountTracker);
 * - a refusal is a 429 problem with a `Retry-After` header in seconds (the library would name
 *   it `Retry-After-ip` for a named throttler, which no client understands).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    if (request.throttler.name !== RateLimitThrottlers.perAccount) return super.handleRequest(request);
    const source = this.reflector.get<AccountKeySource | undefined>(ACCOUNT_KEY_SOURCE, request.context.getHandler());
    const tracker = source ? accountTracker(this.getRequestResponse(request.context).req.body, source) : null;
    if (tracker === null) return true;
    return super.handleRequest({ ...request, getTracker: () => tracker });
  }

  protected override async getTracker(request: Record<string, any>): Promise<string> {
    return normalizeIp(clientIp(request) ?? 'unknown', this.ipv6SubnetPrefix);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    this.setResponseHeader(this.getRequestResponse(context).res, 'Retry-After', retryAfter);
    throw new ThrottlerException(`Too many requests; try again in ${retryAfter} s`);
  }
}

/**
 * Limits a route per client IP and per account (the given body field), with limits shared by
 * every instance. Put it last among a route's decorators, so it runs before its other guards.
 */
export function RateLimited(account: AccountKeySource): MethodDecorator {
  return applyDecorators(
    ApiTooManyRequestsResponse({
      description: 'Too many requests from this address or for this account',
      headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
    }),
    SetMetadata(ACCOUNT_KEY_SOURCE, account),
    UseGuards(RateLimitGuard),
  );
}
