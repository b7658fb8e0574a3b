/**
 * What a revoking command ended, and for how long offline verifiers must keep refusing it. Every
 * command that ends sessions answers one (or its fields, beside its own).
 *
 * When nothing ended: revokedCount 0, sessionIds [], effectiveAt the instant the revocation ran at,
 * and accessTokensValidUntil equal to it (there is no token to wait for).
 */
export interface RevocationReceipt {
  /** sessionIds.length. */
  readonly revokedCount: number;
  /** Exactly the sessions this command ended, none that had ended before. */
  readonly sessionIds: readonly string[];
  /**
   * The instant written as their revoked_at: from then on the session check refuses their access
   * tokens, and their refresh tokens are dead.
   */
  readonly effectiveAt: Date;
  /**
   * No access token of those sessions is valid on its own (by its `exp`) after this: how long an
   * offline verifier must keep their deny entries. An upper bound, never earlier than the real
   * expiry (see SessionRevocations); effectiveAt when none ended.
   */
  readonly accessTokensValidUntil: Date;
}

/** The receipt of a revocation, run at `at`, that ended nothing. */
export function nothingRevoked(at: Date): RevocationReceipt {
  return { revokedCount: 0, sessionIds: [], effectiveAt: at, accessTokensValidUntil: at };
}

/** The receipt's own fields of an outcome that carries them beside others (its kind, a token). */
export function receiptOf(outcome: RevocationReceipt): RevocationReceipt {
  const { revokedCount, sessionIds, effectiveAt, accessTokensValidUntil } = outcome;
  return { revokedCount, sessionIds, effectiveAt, accessTokensValidUntil };
}
