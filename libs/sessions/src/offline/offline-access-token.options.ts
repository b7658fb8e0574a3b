import { SESSIONS_DEFAULTS } from '../sessions.options';

/** How a service that verifies access tokens offline reaches the sessions service. */
export interface OfflineAccessTokenOptions {
  /** The sessions service's `GET /.well-known/jwks.json`. */
  readonly jwksUrl: string;
  /** Its `GET /revocations`. */
  readonly feedUrl: string;
  /** This service's secret, whose SHA-256 the sessions service lists in SERVICE_CLIENTS. */
  readonly serviceSecret: string;
  /** Milliseconds between polls of the feed. Default 5000. */
  readonly pollIntervalMs?: number;
  /**
   * How old the last complete poll may be before the guard stops accepting tokens (503): a
   * verifier that cannot read the feed cannot know of revocations. Default 3 poll intervals plus
   * 10 s.
   */
  readonly maxFeedAgeMs?: number;
  /** Longest wait for one request to the feed or the JWKS. Default 5000. */
  readonly requestTimeoutMs?: number;
  /**
   * The sessions service's access-token lifetime (ACCESS_TOKEN_TTL_SECONDS): a token that claims a
   * longer one is refused, as the service itself refuses it. Default the library's, 900.
   */
  readonly accessTokenTtlSeconds?: number;
}

export const OFFLINE_ACCESS_TOKEN_OPTIONS = Symbol('OfflineAccessTokenOptions');

export type ResolvedOfflineAccessTokenOptions = Required<OfflineAccessTokenOptions>;

export function resolveOfflineOptions(options: OfflineAccessTokenOptions): ResolvedOfflineAccessTokenOptions {
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  for (const name of ['jwksUrl', 'feedUrl'] as const) {
    const url = URL.canParse(options[name]) ? new URL(options[name]) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new Error(`OfflineAccessTokenModule: ${name} must be an http(s) URL`);
  }
  if (!options.serviceSecret) throw new Error('OfflineAccessTokenModule: serviceSecret is required');
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 100) throw new Error('OfflineAccessTokenModule: pollIntervalMs must be an integer of at least 100');
  const maxFeedAgeMs = options.maxFeedAgeMs ?? 3 * pollIntervalMs + 10_000;
  // A feed age no longer than the interval would refuse every token between two polls.
  if (!Number.isInteger(maxFeedAgeMs) || maxFeedAgeMs <= pollIntervalMs)
    throw new Error('OfflineAccessTokenModule: maxFeedAgeMs must be an integer above pollIntervalMs');
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) throw new Error('OfflineAccessTokenModule: requestTimeoutMs must be a positive integer');
  const accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? SESSIONS_DEFAULTS.lifetimes.accessTokenTtlSeconds;
  if (!Number.isInteger(accessTokenTtlSeconds) || accessTokenTtlSeconds < 1)
    throw new Error('OfflineAccessTokenModule: accessTokenTtlSeconds must be a positive integer');
  return { ...options, pollIntervalMs, maxFeedAgeMs, requestTimeoutMs, accessTokenTtlSeconds };
}
