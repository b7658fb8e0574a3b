import { Inject, Injectable } from '@nestjs/common';
import { Actors } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';
import { RevocationReasons } from '../../domain/revocation-reason';
import { SessionLimit, sessionLimitDecision } from '../../domain/session-limit';
import { CredentialLock } from '../ports/user-accounts.port';
import { Transaction } from '../ports/unit-of-work.port';
import { AuditTrail } from '../audit/audit-trail';
import { SessionRevocations } from '../revocation/session-revocations';
import { REVOKE_SESSION_EVENTS } from '../revoke-session/revoke-session.events';
import { SESSION_LIMIT } from '../settings';

/** What the cap let a login do: open its session (having ended `evicted`), or nothing. */
export type SessionLimitOutcome =
  { readonly kind: 'within'; readonly evicted: readonly string[] } | { readonly kind: 'reached'; readonly maxPerUser: number; readonly live: number };

/** Who the login is, for the evictions it causes. */
export interface CappedLogin {
  readonly userId: string;
  readonly context: RequestContext;
  /** The login's own operation: each eviction's audit entries name it. */
  readonly loginCorrelationId: string;
  readonly now: Date;
}

/**
 * The concurrent-session cap, enforced in the transaction of the login that would exceed it.
 *
 * Serialized on the user row: with a cap, the login locks it FOR NO KEY UPDATE instead of FOR
 * SHARE (see `credentialLock`), so two logins of one user take turns, and the second counts the
 * session the first committed; two concurrent logins can never both see room for one. A row
 * lock rather than an advisory lock: the login takes that row lock anyway (one statement, no
 * extra round trip, no key space to share with anything else), and it already orders against the
 * password change and the disable, which lock the same row first and then the sessions. Locks are
 * then taken as every revocation takes them: the user row, the sessions, their tokens.
 *
 * Each eviction is its own audited revocation (SessionRevoked, reason session_limit_evicted, the
 * system as actor), written by SessionRevocations in the login's transaction: committed with the
 * new session, markers and all, or rolled back with it, and then recorded as Failed.
 */
@Injectable()
export class SessionLimits {
  constructor(
    @Inject(SESSION_LIMIT) private readonly limit: SessionLimit,
    private readonly trail: AuditTrail,
    private readonly revocations: SessionRevocations,
  ) {}

  /** How a login that opens a web session locks the user row: serialized only under a cap. */
  credentialLock(purpose: 'app' | 'console'): CredentialLock {
    return purpose === 'app' && this.limit.maxPerUser !== null ? 'serialized' : 'shared';
  }

  /** Call with the user row locked as `credentialLock` says, before the new session is inserted. */
  async enforce(tx: Transaction, login: CappedLogin): Promise<SessionLimitOutcome> {
    if (this.limit.maxPerUser === null) return { kind: 'within', evicted: [] };
    const decision = sessionLimitDecision(this.limit, await tx.sessions.lockLiveWebSessions(login.userId, login.now));
    if (decision.kind === 'deny') return { kind: 'reached', maxPerUser: decision.maxPerUser, live: decision.live };
    const evicted: string[] = [];
    for (const sessionId of decision.evict) {
      if (await this.evict(tx, login, sessionId, this.limit.maxPerUser)) evicted.push(sessionId);
    }
    return { kind: 'within', evicted };
  }

  private async evict(tx: Transaction, login: CappedLogin, sessionId: string, maxPerUser: number): Promise<boolean> {
    const eviction = this.trail.begin(REVOKE_SESSION_EVENTS, {
      actor: Actors.system(),
      subjectUserId: login.userId,
      sessionId,
      context: login.context,
      reason: RevocationReasons.sessionLimitEvicted,
      details: { loginCorrelationId: login.loginCorrelationId, maxPerUser },
    });
    return eviction.run(async () => {
      const { ended } = await this.revocations.revoke(tx, eviction, async (at) => {
        const stamp = { reason: RevocationReasons.sessionLimitEvicted, revokedBy: null, at };
        return (await tx.sessions.revoke(login.userId, sessionId, stamp)) ? { userId: login.userId, sessionIds: [sessionId] } : null;
      });
      // Locked live a moment ago, so only an expiry in between ends it first: nothing to evict.
      if (!ended) eviction.fail('session_not_found');
      return ended !== null;
    });
  }
}
