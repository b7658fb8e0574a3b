import { Inject, Injectable } from '@nestjs/common';
import { SessionRecord, UserRecord } from '../../domain/records';
import { AUDIT_LOG, AuditLog, AuditPage, AuditQuery } from '../ports/audit-log.port';
import { CLOCK, Clock } from '../ports/clock.port';
import { SESSION_RECORDS, SessionRecords } from '../ports/session-records.port';
import { USER_ACCOUNTS, UserAccounts } from '../ports/user-accounts.port';

/** Reads for the HTTP layers: nothing here changes state, so nothing here is audited as a command. */
@Injectable()
export class SessionDirectory {
  constructor(
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(SESSION_RECORDS) private readonly sessions: SessionRecords,
    @Inject(AUDIT_LOG) private readonly auditLog: AuditLog,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  findUser(userId: string): Promise<UserRecord | null> {
    return this.users.findById(userId);
  }

  /** Newest first; active ones only unless includeRevoked (which also includes expired ones). */
  listSessions(userId: string, includeRevoked = false): Promise<SessionRecord[]> {
    return this.sessions.list(userId, { includeRevoked, now: this.clock.now() });
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.sessions.find(sessionId);
  }

  queryAudit(query: AuditQuery): Promise<AuditPage> {
    return this.auditLog.query(query);
  }
}
