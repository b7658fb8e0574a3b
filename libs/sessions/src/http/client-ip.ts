import { isIP } from 'node:net';

/** What clientIp reads of a request: Express and Fastify requests both have these. */
export interface ClientAddressSource {
  /** The adapter's answer (Express `trust proxy`, Fastify `trustProxy`): with trusted proxies, taken from X-Forwarded-For. */
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
}

/**
 * The client's IP address, for the audit trail, the session record and the per-IP rate limit:
 * one function, so that all three name the same client. The adapter's `request.ip` is used only when
 * it is an IP address (behind trusted proxies it comes from X-Forwarded-For, where a client may
 * write anything: a 100-character entry used to overflow the audit column and lose the request's
 * audit entries); otherwise the socket's address. Canonical form, so one client has one spelling:
 * IPv4-mapped IPv6 as IPv4, IPv6 compressed and lower-case without a zone. Null only when the
 * socket is already gone.
 */
export function clientIp(request: ClientAddressSource): string | null {
  return canonicalIp(request.ip) ?? canonicalIp(request.socket?.remoteAddress) ?? null;
}

const IPV4_MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** The canonical spelling of an IP address, or undefined when `candidate` is not one. */
export function canonicalIp(candidate: string | undefined | null): string | undefined {
  if (typeof candidate !== 'string') return undefined;
  const family = isIP(candidate);
  if (family === 4) return candidate;
  if (family !== 6) return undefined;
  // A zone (fe80::1%eth0) names an interface of the machine that saw the address, not the client.
  const bare = candidate.split('%')[0];
  if (isIP(bare) !== 6) return undefined;
  // WHATWG URL serializes IPv6 canonically (RFC 5952): lower-case, zeros compressed, dotted IPv4 in hex.
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = IPV4_MAPPED.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}
