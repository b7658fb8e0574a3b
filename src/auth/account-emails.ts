import { SessionDirectory } from '@app/sessions';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

/** How many accounts' emails one process keeps: a few hundred kB at most. */
export const ACCOUNT_EMAILS_KEPT = 10_000;

/**
 * The email of an account, for GET /auth/me, read from the database once per account and then
 * kept in this process. Safe to keep because it cannot change: no command changes an account's
 * email and none deletes an account (registration stores the normalized email for good). That
 * the caller may still act is not decided here: the access-token guard has checked the session,
 * against the cache or the database, before this runs, and a revocation ends that at once.
 * Without this, every /auth/me was one PostgreSQL round trip (docs/performance.md).
 */
@Injectable()
export class AccountEmails {
  private readonly emails = new LRUCache<string, string>({ max: ACCOUNT_EMAILS_KEPT });

  constructor(private readonly directory: SessionDirectory) {}

  /** The account's email, or null when there is no such account (never kept). */
  async of(userId: string): Promise<string | null> {
    const kept = this.emails.get(userId);
    if (kept !== undefined) return kept;
    const user = await this.directory.findUser(userId);
    if (!user) return null;
    this.emails.set(userId, user.email);
    return user.email;
  }
}
