/**
 * The TTL of a revocation marker, in whole seconds, for both session caches. Rounded up: a marker
 * must never expire earlier than asked.
 */
export function revocationTtl(ttlSeconds: number): number {
  const ttl = Math.ceil(ttlSeconds);
  if (!(ttl > 0)) {
    // Silently skipping would leave a cached "active" entry in place; refuse loudly instead.
    throw new RangeError(`A revocation marker needs a positive TTL, got ${ttlSeconds}`);
  }
  return ttl;
}
