import type { Response } from 'supertest';
import { bearer, signUp, uniqueEmail } from '../support/api';
import { AuditRow, brokenTriads, sql } from '../support/sql';
import { startTestStack, type TestStack } from '../support/test-app';

jest.setTimeout(60_000);

function expectBadRequest(response: Response, field: string, why: RegExp): void {
  expect(response.status).toBe(400);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  // Refused by the library (the handler's outcome), or at the edge by the DTO's validator: both name the field and say why.
  expect([why.test(response.body.detail), response.body.detail === `The request has 1 invalid field: ${field}`]).toContain(true);
  expect(response.body.errors).toEqual([{ field, messages: [expect.stringMatching(why)] }]);
}

describe('credential policy', () => {
  let stack: TestStack;
  const userCount = async () => Number((await sql<{ n: string }>(stack.databaseUrl, 'SELECT count(*) AS n FROM users'))[0].n);

  beforeAll(async () => {
    stack = await startTestStack({ label: 'credential-policy' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('passwords follow NIST SP 800-63B (issue 8 #22)', () => {
    it('refuses password, 12345678 and eight spaces with a 400 that says why, and creates nothing', async () => {
      const before = await userCount();
      const cases: Array<[string, RegExp]> = [
        ['password', /password is a commonly used password/],
        ['12345678', /commonly used/],
        ['        ', /password must not be blank/],
        ['aaaaaaaaaaaa', /repeated character or a simple sequence/],
      ];
      for (const [password, why] of cases) {
        const email = uniqueEmail('weak');
        expectBadRequest(await stack.http().post('/auth/register').send({ email, password }), 'password', why);
      }
      expect(await userCount()).toBe(before);
      await stack.settleAudit();
      const failed = await sql<AuditRow>(
        stack.databaseUrl,
        `SELECT * FROM audit_entries WHERE action = 'user.register' AND outcome = 'failed' AND reason = 'weak_password'`,
      );
      expect(failed).toHaveLength(cases.length);
      await expect(brokenTriads(stack.databaseUrl)).resolves.toEqual([]);
    });

    it('refuses a password built on the email', async () => {
      const email = uniqueEmail('context');
      const local = email.split('@')[0];
      expectBadRequest(await stack.http().post('/auth/register').send({ email, password: email }), 'password', /based on your email address/);
      expectBadRequest(
        await stack
          .http()
          .post('/auth/register')
          .send({ email, password: `${local}!1` }),
        'password',
        /based on your email address/,
      );
    });

    it('accepts long passphrases in any script, and signs in with either Unicode form of them (NFKC before hashing and verifying)', async () => {
      const email = uniqueEmail('unicode');
      const nfc = 'Café crème, très chaud, sans sucre — s’il vous plaît';
      const nfd = nfc.normalize('NFD');
      expect(nfd).not.toBe(nfc);
      await stack.http().post('/auth/register').send({ email, password: nfd }).expect(201);
      await stack.http().post('/auth/login').send({ email, password: nfc }).expect(200);
      await stack.http().post('/auth/login').send({ email, password: nfd }).expect(200);
      await stack
        .http()
        .post('/auth/register')
        .send({ email: uniqueEmail('cyrillic'), password: 'мой пароль никто не угадает' })
        .expect(201);
    });

    it('holds a new password to the same policy, and changes nothing when it refuses', async () => {
      const [device, other] = await signUp(stack, 2, 'change');
      const response = await stack
        .http()
        .post('/auth/password')
        .set(...bearer(device.accessToken))
        .send({ currentPassword: device.password, newPassword: 'iloveyou' });
      expectBadRequest(response, 'newPassword', /newPassword is a commonly used password/);
      // The old password still works and no session ended.
      await stack.http().post('/auth/login').send({ email: device.email, password: device.password }).expect(200);
      await stack
        .http()
        .get('/auth/me')
        .set(...bearer(other.accessToken))
        .expect(200);
    });
  });

  describe('emails are normalized, and look-alikes refused (issue 8 #23)', () => {
    it('treats NFD, full-width and upper-case spellings as the account they spell', async () => {
      const tag = uniqueEmail('x').slice(2, 10);
      const nfc = `jos\u00e9-${tag}@example.com`;
      const created = await stack.http().post('/auth/register').send({ email: nfc, password: 'correct horse battery' }).expect(201);
      expect(created.body.email).toBe(nfc);
      const nfd = nfc.normalize('NFD');
      expect((await stack.http().post('/auth/register').send({ email: nfd, password: 'correct horse battery' })).status).toBe(409);
      await stack.http().post('/auth/login').send({ email: nfd, password: 'correct horse battery' }).expect(200);
      await stack.http().post('/auth/login').send({ email: nfc.toUpperCase(), password: 'correct horse battery' }).expect(200);
    });

    it('stores an international domain in its IDNA form, so both spellings are one account', async () => {
      const local = uniqueEmail('idn').split('@')[0];
      const created = await stack
        .http()
        .post('/auth/register')
        .send({ email: `${local}@Bücher.de`, password: 'correct horse battery' })
        .expect(201);
      expect(created.body.email).toBe(`${local}@xn--bcher-kva.de`);
      expect(
        (
          await stack
            .http()
            .post('/auth/register')
            .send({ email: `${local}@xn--bcher-kva.de`, password: 'correct horse battery' })
        ).status,
      ).toBe(409);
      await stack
        .http()
        .post('/auth/login')
        .send({ email: `${local}@bücher.de`, password: 'correct horse battery' })
        .expect(200);
    });

    it('refuses zero-width, bidi-control and mixed-script look-alikes of an existing address with a 400 that says why', async () => {
      const local = `ada${uniqueEmail('').slice(1, 9)}`;
      await stack
        .http()
        .post('/auth/register')
        .send({ email: `${local}@example.com`, password: 'correct horse battery' })
        .expect(201);
      const before = await userCount();
      const lookAlikes: Array<[string, RegExp]> = [
        [`${local.slice(0, 2)}\u200b${local.slice(2)}@example.com`, /invisible/],
        [`${local}\u200d@example.com`, /invisible/],
        [`\u202e${local}@example.com`, /bidirectional control/],
        [`\u0430${local.slice(1)}@example.com`, /must not mix scripts/], // Cyrillic а
        [`${local}@ex\u0430mple.com`, /must not mix scripts/],
      ];
      for (const [email, why] of lookAlikes) {
        expectBadRequest(await stack.http().post('/auth/register').send({ email, password: 'correct horse battery' }), 'email', why);
        expectBadRequest(await stack.http().post('/auth/login').send({ email, password: 'correct horse battery' }), 'email', why);
      }
      expect(await userCount()).toBe(before);
    });
  });
});
