import { uniqueEmail } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

/**
 * Behind a trusted proxy (one hop), X-Forwarded-For is the client's to write. Whatever it writes,
 * the address the service records and counts is an IP address, in one canonical spelling, and no
 * audit entry is lost over it (issue 8 #9).
 */
describe('client IP behind a trusted proxy', () => {
  let stack: TestStack;
  const PER_IP = 5;

  beforeAll(async () => {
    stack = await startTestStack({
      label: 'client-ip',
      settings: { http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: 1 }, rateLimit: { ...GENEROUS_RATE_LIMIT, perIp: PER_IP } },
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** The audit entries of the requests sent with this User-Agent. */
  async function auditOf(agent: string): Promise<AuditRow[]> {
    await stack.settleAudit();
    return sql<AuditRow>(stack.databaseUrl, 'SELECT * FROM audit_entries WHERE user_agent = $1 ORDER BY event_id', [agent]);
  }

  it('records the socket address when the forwarded one is not an IP address, and loses no audit entry', async () => {
    const email = uniqueEmail('xff-junk');
    const junk = 'x'.repeat(100);
    const agent = 'client-ip-junk';
    const registered = await stack
      .http()
      .post('/auth/register')
      .set('User-Agent', agent)
      .set('X-Forwarded-For', junk)
      .send({ email, password: 'correct horse battery' });
    expect(registered.status).toBe(201);
    const loggedIn = await stack
      .http()
      .post('/auth/login')
      .set('User-Agent', agent)
      .set('X-Forwarded-For', `${'1'.repeat(70)}, ${junk}`)
      .send({ email, password: 'correct horse battery' });
    expect(loggedIn.status).toBe(200);
    const [session] = await sql<{ ip_address: string }>(stack.databaseUrl, 'SELECT ip_address FROM sessions WHERE id = $1', [loggedIn.body.sessionId]);
    // supertest reaches the server over IPv4 on a dual-stack socket: ::ffff:127.0.0.1, recorded as IPv4.
    expect(session.ip_address).toBe('127.0.0.1');
    const audit = await auditOf(agent);
    expect(audit.map((row) => `${row.action}:${row.outcome}:${row.ip_address}`)).toEqual([
      'user.register:attempted:127.0.0.1',
      'user.register:succeeded:127.0.0.1',
      'user.login:attempted:127.0.0.1',
      'user.login:succeeded:127.0.0.1',
    ]);
    expect(await brokenTriads(stack.databaseUrl)).toEqual([]);
    expect(stack.logs.lines.filter((line) => line.includes('audit_write_failed'))).toEqual([]);
  });

  it.each([
    ['::ffff:198.51.100.7', '198.51.100.7'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['198.51.100.8', '198.51.100.8'],
  ])('records a forwarded %p as %p', async (forwarded, recorded) => {
    const agent = `client-ip-${forwarded}`;
    await stack
      .http()
      .post('/auth/register')
      .set('User-Agent', agent)
      .set('X-Forwarded-For', forwarded)
      .send({ email: uniqueEmail('xff-ip'), password: 'correct horse battery' })
      .expect(201);
    expect((await auditOf(agent)).map((row) => row.ip_address)).toEqual([recorded, recorded]);
  });

  it('does not give a client a fresh per-IP budget for each junk address it forwards', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= PER_IP; i += 1) {
      const response = await stack
        .http()
        .post('/auth/refresh')
        .set('X-Forwarded-For', `junk-${i}`)
        .send({ refreshToken: String(i).repeat(43) });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([...Array(PER_IP).fill(401), 429]);
  });
});
