import { AuditRecorder, LogoutUser, NO_REQUEST_CONTEXT } from '@app/sessions';
import { CommandBus } from '@nestjs/cqrs';
import { createWebApi } from '../src/web-api';
import { median, newToken, startBenchRuntime, timeMs, withClient } from './support';

export interface LogoutScalingRow {
  readonly storedTokens: number;
  /** A logout that ends a session: lookup, two UPDATEs, the audit row, the commit, the cache marker. */
  readonly medianMs: number;
  /** A logout with an unknown token: the same lookups, nothing to write but the audit trail. */
  readonly unknownTokenMedianMs: number;
  readonly samples: number;
}

const FILLER_USERS = 1_000;

/** Fills the database with `storedTokens` refresh tokens, spread over 1,000 users. */
async function seed(url: string, storedTokens: number, targets: number): Promise<Array<{ token: string }>> {
  return withClient(url, async (client) => {
    await client.query(
      `INSERT INTO users (id, email, password_hash, role, created_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, 'filler' || u || '@example.com', 'x', 'user', now()
           FROM generate_series(1, $1::int) u`,
      [FILLER_USERS],
    );
    await client.query(
      `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at)
         SELECT ('00000000-0000-7000-9000-' || lpad(to_hex(i), 12, '0'))::uuid,
                ('00000000-0000-7000-8000-' || lpad(to_hex(1 + i % $2::int), 12, '0'))::uuid, now(), now(), now() + interval '30 days'
           FROM generate_series(1, $1::int) i`,
      [storedTokens - targets, FILLER_USERS],
    );
    await client.query(
      `INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at)
         SELECT gen_random_uuid(), s.id, s.user_id, sha256(convert_to(s.id::text, 'UTF8')), now(), s.expires_at FROM sessions s`,
    );
    const tokens = Array.from({ length: targets }, () => newToken());
    for (let i = 0; i < targets; i += 1) {
      const sessionId = `00000000-0000-7000-a000-${(i + 1).toString(16).padStart(12, '0')}`;
      const userId = `00000000-0000-7000-8000-${(1 + (i % FILLER_USERS)).toString(16).padStart(12, '0')}`;
      await client.query(`INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, now(), now(), now() + interval '30 days')`, [sessionId, userId]);
      await client.query(`INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, issued_at, expires_at) VALUES (gen_random_uuid(), $1, $2, $3, now(), now() + interval '30 days')`, [
        sessionId,
        userId,
        tokens[i].hash,
      ]);
    }
    await client.query('VACUUM ANALYZE');
    // Seeding writes a lot of WAL: checkpoint now, not in the middle of the measurement.
    await client.query('CHECKPOINT');
    return tokens;
  });
}

/** Median time of one LogoutUser through the CommandBus (events and audit included). */
export async function measureLogout(storedTokens: number, options = { warmup: 50, repetitions: 5, perRepetition: 60 }): Promise<LogoutScalingRow> {
  const targets = options.warmup + options.repetitions * options.perRepetition;
  const stack = await startBenchRuntime(`logout-${storedTokens}`);
  const app = await createWebApi(stack.runtime, { seedAdmin: false });
  try {
    const tokens = await seed(stack.database.url, storedTokens, targets);
    const bus = app.get(CommandBus);
    const recorder = app.get(AuditRecorder);
    let next = 0;
    const logoutOne = async () => {
      const outcome = await bus.execute(new LogoutUser(tokens[next++].token, null, NO_REQUEST_CONTEXT));
      if (outcome.kind !== 'revoked') throw new Error(`logout was ${outcome.reason}`);
    };
    for (let i = 0; i < options.warmup; i += 1) await logoutOne();
    await recorder.drain();
    const perOp: number[] = [];
    for (let r = 0; r < options.repetitions; r += 1) {
      const total = await timeMs(async () => {
        for (let i = 0; i < options.perRepetition; i += 1) await logoutOne();
      });
      await recorder.drain();
      perOp.push(total / options.perRepetition);
    }
    const unknownPerOp: number[] = [];
    for (let r = 0; r < options.repetitions; r += 1) {
      const total = await timeMs(async () => {
        for (let i = 0; i < options.perRepetition; i += 1) {
          const outcome = await bus.execute(new LogoutUser(newToken().token, null, NO_REQUEST_CONTEXT));
          if (outcome.kind !== 'rejected') throw new Error('an unknown token logged out');
        }
      });
      await recorder.drain();
      unknownPerOp.push(total / options.perRepetition);
    }
    return { storedTokens, medianMs: median(perOp), unknownTokenMedianMs: median(unknownPerOp), samples: options.repetitions * options.perRepetition };
  } finally {
    await app.close();
    await stack.close();
  }
}

if (require.main === module) {
  void (async () => {
    for (const n of [1_000, 1_000_000]) console.log(await measureLogout(n));
  })();
}
