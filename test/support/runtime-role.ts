import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { TEST_POSTGRES_ADMIN_URL, type TestDatabase } from './test-database';

/** Where docs/audit.md keeps the runtime role's grants, and the role name the block is written for. */
const GRANTS_MARKER = '<!-- runtime-role-grants';
const DOCUMENTED_ROLE = 'sessions_runtime';

/**
 * The SQL block of docs/audit.md ("Running the service as a role that owns nothing"), for `role`:
 * the test runs what an operator would copy, so the documented grants cannot drift from what the
 * service needs.
 */
export async function documentedRuntimeGrants(role: string): Promise<string> {
  const doc = await readFile(path.join(__dirname, '../../docs/audit.md'), 'utf8');
  const at = doc.indexOf(GRANTS_MARKER);
  if (at < 0) throw new Error(`docs/audit.md has no ${GRANTS_MARKER} block`);
  const block = /```sql\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!block) throw new Error('docs/audit.md: no ```sql block after the runtime-role-grants marker');
  return block[1].replace(new RegExp(`\\b${DOCUMENTED_ROLE}\\b`, 'g'), role);
}

export interface RuntimeRole {
  /** `t_rt_` and 12 hex digits: a valid identifier that needs no quoting. */
  readonly name: string;
  /** The database's URL with this role as its user (trust auth on 127.0.0.1: no password). */
  readonly url: string;
  /** Drops the role; the database (holding its grants) must be dropped first. Idempotent. */
  drop(): Promise<void>;
}

/**
 * A LOGIN role of the test's own that owns nothing, granted in `database` exactly the documented
 * runtime grants (run as the owner, after the migrations). Roles are cluster-wide: drop it in afterAll.
 */
export async function createRuntimeRole(database: TestDatabase): Promise<RuntimeRole> {
  const name = `t_rt_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`);
  } finally {
    await admin.end();
  }
  const owner = new Client({ connectionString: database.url });
  await owner.connect();
  try {
    await owner.query(await documentedRuntimeGrants(name));
  } finally {
    await owner.end();
  }
  const url = new URL(database.url);
  url.username = name;
  url.password = '';
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop() {
      dropped ??= (async () => {
        const client = new Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
        await client.connect();
        try {
          await client.query(`DROP ROLE IF EXISTS ${name}`);
        } finally {
          await client.end();
        }
      })();
      return dropped;
    },
  };
}
