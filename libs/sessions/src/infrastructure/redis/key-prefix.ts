/**
 * Refuses a key prefix with `{` or `}`: Redis Cluster hashes only what is between the first braces
 * of a key, so a brace in the prefix would move the hash tag the adapters put after it (`{userId}`,
 * `{email digest}`, `{throttler key}`) and scatter keys that must share a slot.
 */
export function assertHashTagFreePrefix(keyPrefix: string, what: string): void {
  if (/[{}]/.test(keyPrefix)) {
    throw new Error(`The ${what} key prefix must not contain "{" or "}" (Redis Cluster hash tags)`);
  }
}
