import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Actors } from '../../domain/actor';
import { RequestContext } from '../../domain/request-context';
import { RevocationReasons } from '../../domain/revocation-reason';
import { LoginGatekeeper } from '../login-user/login-gatekeeper';
import { RevokeSession } from '../revoke-session/revoke-session.command';
import { receiptOf, RevocationReceipt } from '../revocation/revocation-receipt';

/**
 * A wrong current password on a password change is a password guess with a stolen access
 * token: it counts with failed logins (same email, same network, same budget), and once it
 * engages a lock or the email-wide delay, or comes from a network already locked out, the
 * session that made it is ended through RevokeSession, so the audit trail says why.
 */
@Injectable()
export class CurrentPasswordGuesses {
  constructor(
    private readonly gatekeeper: LoginGatekeeper,
    private readonly commandBus: CommandBus,
  ) {}

  /** Counts the guess; the receipt of the session's end when it was ended for it, else null. */
  async wrongCurrentPassword(user: { id: string; email: string }, sessionId: string, context: RequestContext): Promise<RevocationReceipt | null> {
    const failure = await this.gatekeeper.recordFailure(this.gatekeeper.keyFor(user.email, context), user.id);
    const alreadyLocked = failure.failures === 0;
    if (!alreadyLocked && failure.lockedUntil === null && failure.delayedUntil === null) return null;
    const details = { failedAttempts: failure.failures, emailFailures: failure.emailFailures, networkLocked: alreadyLocked || failure.lockedUntil !== null };
    const outcome = await this.commandBus.execute(new RevokeSession(user.id, sessionId, RevocationReasons.passwordGuessing, Actors.system(), context, details));
    return outcome.kind === 'revoked' ? receiptOf(outcome) : null;
  }
}
