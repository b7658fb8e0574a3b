/**
 * Refuses a key prefix with `{` or `}`: Redis Cluster hashes only what is between the first braces
 * of a key, so a brace in the prefix would move the hash tag the adapters put after it (`{userId}`,
 * `{email digest}`, `{throttler key}`) and scatter keys that must share a slot.
 */
export function hashTagProblem(keyPrefix: string): string | undefined {
  return /[{}]/.test(keyPrefix) ? 'must not contain "{" or "}" (Redis Cluster hash tags)' : undefined;
}

/** Throws hashTagProblem's answer, for the adapters' constructors (the options check reports it first). */
export function assertHashTagFreePrefix(keyPrefix: string, what: string): void {
  const problem = hashTagProblem(keyPrefix);
  if (problem) throw new Error(`The ${what} key prefix ${problem}`);
}
