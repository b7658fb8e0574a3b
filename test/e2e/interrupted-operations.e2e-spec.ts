import { InterruptedOperations, PROCESS_INSTANCE_ID } from '@app/sessions';
import { randomUUID } from 'node:crypto';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

/** An Attempted entry as a process would have written it before dying. */
async function attempted(stack: TestStack, instance: string, secondsAgo: number): Promise<string> {
  const correlationId = randomUUID();
  await sql(
    stack.databaseUrl,
    `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, user_id, actor_type, actor_id, reason, ip_address, user_agent, details)
     VALUES ($1, $2, 'sessions.revoke_all', 'attempted', now() - make_interval(secs => $3), $4, 'user', $4, 'user_revoked_all', '198.51.100.7', 'crashed-client', $5)`,
    [randomUUID(), correlationId, secondsAgo, randomUUID(), JSON.stringify({ instance })],
  );
  return correlationId;
}

describe('operations interrupted by a dead process', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ label: 'interrupted', sessions: { interruptedAfterSeconds: 30 } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("closes another process's old unfinished operations as Failed 'interrupted', once, and leaves the rest", async () => {
    const dead = await attempted(stack, randomUUID(), 120);
    const tooRecent = await attempted(stack, randomUUID(), 5);
    const ours = await attempted(stack, PROCESS_INSTANCE_ID, 120);
    const recovery = stack.web.get(InterruptedOperations);

    expect(await recovery.closeInterrupted(3_600_000)).toBe(1);
    expect(await recovery.closeInterrupted(3_600_000)).toBe(0);

    const outcomes = await sql<AuditRow>(stack.databaseUrl, `SELECT * FROM audit_entries WHERE outcome <> 'attempted' AND correlation_id = ANY($1::uuid[])`, [
      [dead, tooRecent, ours],
    ]);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ correlation_id: dead, outcome: 'failed', reason: 'interrupted', action: 'sessions.revoke_all', user_agent: 'crashed-client' });
  });

  it('keeps one outcome per operation: a late outcome after recovery is dropped by the database', async () => {
    const dead = await attempted(stack, randomUUID(), 120);
    await stack.web.get(InterruptedOperations).closeInterrupted(3_600_000);
    await sql(
      stack.databaseUrl,
      `INSERT INTO audit_entries (event_id, correlation_id, action, outcome, occurred_at, actor_type, details)
       VALUES ($1, $2, 'sessions.revoke_all', 'succeeded', now(), 'user', '{}') ON CONFLICT DO NOTHING`,
      [randomUUID(), dead],
    );
    const rows = await sql(stack.databaseUrl, `SELECT outcome FROM audit_entries WHERE correlation_id = $1 ORDER BY event_id`, [dead]);
    expect(rows.map((r) => r.outcome).sort()).toEqual(['attempted', 'failed']);
    expect((await brokenTriads(stack.databaseUrl)).filter((t) => t.correlation_id === dead)).toEqual([]);
  });
});
