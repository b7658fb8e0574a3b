import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expectEventually } from '../support/eventually';
import { sql } from '../support/sql';
import { bearer, login, meStatus, register, signUp, uniqueEmail } from '../support/api';
import { launchChromium, openWatchedPage, type PageWatch } from './support/chromium';
import { CONSOLE_ADMIN, type ConsoleStack, startConsoleStack } from './support/console-stack';

/**
 * The admin console as an operator uses it during an incident, in Debian's Chromium against the
 * real service (PostgreSQL, Redis): each `it` is one flow of issue 11, in the order an operator
 * would go, on one signed-in page. The screenshots in docs/console/ are taken here.
 */

const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'console');
const DESKTOP_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const LOCKOUT_THRESHOLD = 3;
/**
 * Signing in counts as entering the password; a short window lets the flows that need a step-up
 * (another admin, several users) meet one, some seconds after the sign-in.
 */
const REAUTH_WINDOW_SECONDS = 2;

jest.setTimeout(60_000);

let consoleStack: ConsoleStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  consoleStack = await startConsoleStack('console-browser', {
    settings: {
      adminConsole: { reauthWindowSeconds: REAUTH_WINDOW_SECONDS },
      // A low lockout threshold, so the unlock flow can lock an account in a few attempts.
      rateLimit: {
        windowSeconds: 60,
        perIp: 1_000_000,
        perAccount: 1_000_000,
        lockoutThreshold: LOCKOUT_THRESHOLD,
        lockoutSeconds: 600,
        loginMaxDelaySeconds: 1,
        perUser: 1_000_000,
        perIpAuthenticated: 1_000_000,
      },
    },
  });
  browser = await launchChromium();
  ({ context, page, watch } = await openWatchedPage(browser));
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await consoleStack?.close();
});

const stack = () => consoleStack.stack;
const url = (hash = '') => `${consoleStack.consoleUrl}/${hash}`;

/** Waits until the locator holds the text (Playwright's core has no expect of its own). */
async function shows(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: 10_000 });
}

async function signIn(target: Page, email: string, password: string): Promise<void> {
  const form = target.locator('form[data-testid=sign-in]');
  await form.waitFor();
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

async function openUser(userId: string): Promise<void> {
  await page.goto(url(`#/users/${userId}`));
  await page.locator('[data-testid=user-profile]').waitFor();
}

/** Clicks an action's button, gives the reason, submits; answers a step-up with the admin's password. */
async function act(button: Locator, reason: string, options: { submit?: string; stepUp?: boolean; keepSession?: string } = {}): Promise<Locator> {
  await button.click();
  const form = page.locator('form[data-testid=action-form]');
  await form.waitFor();
  await form.getByLabel('Reason').fill(reason);
  if (options.keepSession) await form.getByLabel('Keep session').selectOption(options.keepSession);
  await form.getByRole('button', { name: options.submit ?? 'Confirm' }).click();
  if (options.stepUp) {
    const dialog = page.locator('dialog[data-testid=step-up]');
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(CONSOLE_ADMIN.password);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
  }
  const receipt = page.locator('section[data-testid=receipt]');
  await receipt.waitFor();
  return receipt;
}

/** The account's status as the REST API reports it (the page is checked against this, not against itself). */
async function userView(userId: string): Promise<Record<string, unknown>> {
  const adminLogin = await login(stack(), CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
  const response = await stack()
    .adminHttp()
    .get(`/admin/users/${userId}`)
    .set(...bearer(adminLogin.accessToken))
    .expect(200);
  return response.body as Record<string, unknown>;
}

async function loginStatus(email: string, password: string): Promise<number> {
  return (await stack().http().post('/auth/login').send({ email, password })).status;
}

describe('the admin console in a browser', () => {
  it('serves the page with a strict Content-Security-Policy that forbids framing', async () => {
    const response = await page.goto(url());
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    await page.locator('form[data-testid=sign-in]').waitFor();
  });

  it('refuses a non-admin the same way as a wrong password', async () => {
    const account = await register(stack(), uniqueEmail('not-admin'));
    await signIn(page, account.email, account.password);
    const error = page.locator('[data-testid=sign-in-error]');
    await error.waitFor();
    const asNonAdmin = await error.textContent();
    await signIn(page, CONSOLE_ADMIN.email, 'not the password at all');
    await shows(error, asNonAdmin ?? '');
    expect(await error.textContent()).toBe(asNonAdmin);
    expect(await page.locator('[data-testid=signed-in-as]').count()).toBe(0);
  });

  it('signs an admin in with a cookie the page cannot read', async () => {
    await signIn(page, CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
    await shows(page.locator('[data-testid=signed-in-as]'), CONSOLE_ADMIN.email);
    const cookies = await context.cookies(consoleStack.consoleUrl);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
  });

  it('finds users by email prefix, case-insensitively, and by id', async () => {
    const prefix = `incident-${Date.now().toString(36)}`;
    const found = [await register(stack(), `${prefix}-alice@example.com`), await register(stack(), `${prefix}-bob@example.com`)];
    await login(stack(), found[0].email, found[0].password, DESKTOP_CHROME);
    await register(stack(), uniqueEmail('elsewhere'));
    await page.goto(url('#/users'));
    await page.getByLabel('Search').fill(prefix.toUpperCase());
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('table[data-testid=users-table] tr[data-testid=user-row]');
    await shows(rows, found[1].email);
    expect(await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-user-id')))).toEqual(found.map((user) => user.userId));
    await page.screenshot({ path: join(SCREENSHOTS, 'users.png') });

    await page.getByLabel('Search').fill(found[1].userId);
    await page.getByRole('button', { name: 'Search' }).click();
    await expectEventually(async () => expect(await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-user-id')))).toEqual([found[1].userId]));
  });

  it("shows a user's sessions with their device, and the admin's own session as theirs", async () => {
    const victim = await register(stack(), uniqueEmail('devices'));
    await login(stack(), victim.email, victim.password, DESKTOP_CHROME);
    await login(stack(), victim.email, victim.password, IPHONE_SAFARI);
    await openUser(victim.userId);
    const sessions = page.locator('table[data-testid=sessions-table] tr[data-testid=session-row]');
    await shows(sessions, /Chrome 131/);
    await shows(sessions, /Mobile Safari|Safari/);
    await shows(sessions, /Windows/);
    await shows(sessions, /iOS/);
    expect(await page.locator('[data-testid=current-session]').count()).toBe(0);

    const own = await consoleSession();
    await openUser(own.user.id);
    await page.locator(`tr[data-testid=session-row][data-session-id="${own.sessionId}"] [data-testid=current-session]`).waitFor();
  });

  it("revokes one session, and the web API refuses that session's access token at once", async () => {
    const account = await register(stack(), uniqueEmail('revoke-one'));
    const kept = { ...(await login(stack(), account.email, account.password, DESKTOP_CHROME)) };
    const ended = { ...(await login(stack(), account.email, account.password, IPHONE_SAFARI)) };
    await openUser(kept.userId);
    const row = page.locator(`tr[data-testid=session-row][data-session-id="${ended.sessionId}"]`);
    const receipt = await act(row.getByRole('button', { name: 'Revoke' }), 'lost laptop', { submit: 'Revoke' });
    await shows(receipt.locator('[data-testid=receipt-revoked-count]'), '1');
    await shows(receipt.locator('[data-testid=receipt-access-tokens]'), /refused from now on; the last one would have expired on its own at/);
    expect(await meStatus(stack(), ended.accessToken)).toBe(401);
    expect(await meStatus(stack(), kept.accessToken)).toBe(200);
    await page.locator(`tr[data-testid=revoked-session-row][data-session-id="${ended.sessionId}"]`).filter({ hasText: 'lost laptop' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'user.png'), fullPage: true });
  });

  it('revokes every session but the one chosen to keep', async () => {
    const devices = await signUp(stack(), 3, 'revoke-all');
    const keep = devices[1];
    await openUser(keep.userId);
    const receipt = await act(page.getByRole('button', { name: 'Sign out everywhere' }), 'suspicious sign-ins', { keepSession: keep.sessionId });
    await shows(receipt.locator('[data-testid=receipt-revoked-count]'), '2');
    await receipt.locator('[data-testid=receipt-access-tokens]').waitFor();
    expect(await Promise.all(devices.map((device) => meStatus(stack(), device.accessToken)))).toEqual([401, 200, 401]);
  });

  it('disables an account, whose sign-in is then refused, and enables it again', async () => {
    const [user] = await signUp(stack(), 1, 'disable');
    await openUser(user.userId);
    await act(page.getByRole('button', { name: 'Disable' }), 'account takeover suspected');
    await shows(page.locator('[data-testid=user-status]'), /disabled/i);
    expect(await meStatus(stack(), user.accessToken)).toBe(401);
    expect(await loginStatus(user.email, user.password)).toBe(401);

    await act(page.getByRole('button', { name: 'Enable' }), 'owner verified by phone');
    await shows(page.locator('[data-testid=user-status]'), /active/i);
    expect(await loginStatus(user.email, user.password)).toBe(200);
  });

  it('shows a login lockout and lifts it', async () => {
    const user = await register(stack(), uniqueEmail('locked'));
    for (let attempt = 0; attempt < LOCKOUT_THRESHOLD; attempt += 1) expect(await loginStatus(user.email, 'a wrong guess entirely')).toBe(401);
    expect(await loginStatus(user.email, user.password)).not.toBe(200);
    await openUser(user.userId);
    await shows(page.locator('[data-testid=user-status]'), /locked until/i);

    await act(page.getByRole('button', { name: 'Unlock' }), 'owner called the help desk');
    await shows(page.locator('[data-testid=user-status]'), /active/i);
    expect(await userView(user.userId)).toMatchObject({ status: 'active', lockedUntil: null });
    expect(await loginStatus(user.email, user.password)).toBe(200);
  });

  it('requires a password reset: every session ends, the old password stops working, the one-time token shown sets a new one', async () => {
    const [user] = await signUp(stack(), 1, 'reset');
    await openUser(user.userId);
    const receipt = await act(page.getByRole('button', { name: 'Require password reset' }), 'password found in a breach corpus');
    await shows(receipt.locator('[data-testid=receipt-revoked-count]'), '1');
    const resetToken = (await receipt.locator('[data-testid=reset-token]').textContent()) ?? '';
    expect(resetToken).not.toBe('');
    expect(await meStatus(stack(), user.accessToken)).toBe(401);
    expect(await loginStatus(user.email, user.password)).toBe(401);
    const newPassword = 'a brand new passphrase for the breach';
    await stack().http().post('/auth/password/reset').send({ resetToken, newPassword }).expect(200);
    expect(await loginStatus(user.email, newPassword)).toBe(200);
  });

  it("grants admin, and asks for the password again before removing another admin's role", async () => {
    const [user] = await signUp(stack(), 1, 'promoted');
    await openUser(user.userId);
    await act(page.getByRole('button', { name: 'Make admin' }), 'new on-call engineer');
    await shows(page.locator('[data-testid=user-role]'), 'admin');
    expect(await userView(user.userId)).toMatchObject({ role: 'admin' });

    await act(page.getByRole('button', { name: 'Remove admin' }), 'rotation ended', { stepUp: true });
    await shows(page.locator('[data-testid=user-role]'), 'user');
    expect(await userView(user.userId)).toMatchObject({ role: 'user' });
  });

  it('signs several users out at once, after the password is entered again', async () => {
    // The role flow's step-up has just been given: wait for it to lapse.
    await expectEventually(async () => expect(Date.parse((await consoleSession()).reauthenticatedUntil)).toBeLessThan(Date.now()), {
      timeoutMs: (REAUTH_WINDOW_SECONDS + 2) * 1000,
      intervalMs: 200,
    });
    const prefix = `bulk-${Date.now().toString(36)}`;
    const users = [(await signUp(stack(), 1, `${prefix}-a`))[0], (await signUp(stack(), 1, `${prefix}-b`))[0]];
    await page.goto(url('#/users'));
    await page.getByLabel('Search').fill(prefix);
    await page.getByRole('button', { name: 'Search' }).click();
    for (const user of users) await page.getByLabel(`Select ${user.email}`).check();
    const receipt = await act(page.getByRole('button', { name: 'Sign out selected (2)' }), 'credential stuffing wave', {
      submit: 'Sign out selected',
      stepUp: true,
    });
    await shows(receipt.locator('[data-testid=receipt-revoked-count]'), '2');
    expect(await Promise.all(users.map((user) => meStatus(stack(), user.accessToken)))).toEqual([401, 401]);
  });

  it("finds the audit entries of the action just taken, grouped by operation, from the receipt's link", async () => {
    const [user] = await signUp(stack(), 2, 'audited');
    await openUser(user.userId);
    const receipt = await act(page.getByRole('button', { name: 'Sign out everywhere' }), 'audit trail check');
    await receipt.locator('[data-testid=receipt-audit-link]').click();
    const groups = page.locator('table[data-testid=audit-table] tbody[data-testid=audit-group]');
    await groups.first().waitFor();
    expect(await groups.count()).toBe(1);
    const rows = groups.first().locator('tr[data-testid=audit-row]');
    expect(await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-outcome')))).toEqual(['succeeded', 'attempted']);
    await shows(groups.first(), 'audit trail check');
    await rows.first().getByRole('button', { name: 'Details' }).click();
    await shows(page.locator('pre[data-testid=audit-details]'), '"count": 2');

    // The same entries by filtering as an operator would: the user and the action.
    await page.goto(url('#/audit'));
    const filters = page.locator('form[data-testid=audit-filters]');
    await filters.getByLabel('User id').fill(user.userId);
    await filters.getByRole('button', { name: 'Apply' }).click();
    await shows(page.locator('table[data-testid=audit-table]'), 'audit trail check');
    await page.screenshot({ path: join(SCREENSHOTS, 'audit.png'), fullPage: true });
    await filters.getByLabel('Outcome').selectOption('succeeded');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await expectEventually(async () =>
      expect(await page.locator('tr[data-testid=audit-row]').evaluateAll((all) => [...new Set(all.map((row) => row.getAttribute('data-outcome')))])).toEqual([
        'succeeded',
      ]),
    );
  });

  it('shows the overview: sessions, sign-ins, revocations, lockouts, the cache and the database', async () => {
    await page.goto(url('#/overview'));
    await page.locator('[data-testid=overview-active-sessions]').waitFor();
    const adminLogin = await login(stack(), CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
    const { body } = await stack()
      .adminHttp()
      .get('/admin/overview')
      .set(...bearer(adminLogin.accessToken))
      .expect(200);
    // This page was loaded before the sign-in just made: one session and one sign-in fewer.
    await shows(page.locator('[data-testid=overview-active-sessions]'), String(body.activeSessions - 1));
    await shows(page.locator('[data-testid=overview-sign-ins]'), String(body.last24h.signIns - 1));
    await shows(page.locator('[data-testid=overview-failed-sign-ins]'), String(body.last24h.failedSignIns));
    await shows(page.locator('[data-testid=overview-revocations]'), String(body.last24h.revocations));
    expect(body.last24h.revocations).toBeGreaterThan(0);
    await shows(page.locator('[data-testid=overview-cache]'), /^trusted/);
    await shows(page.locator('[data-testid=overview-database]'), /^healthy/);
  });

  it('exports the filtered trail as NDJSON and CSV', async () => {
    const [user] = await signUp(stack(), 1, 'exported');
    await stack().settleAudit();
    await page.goto(url(`#/audit?userId=${user.userId}`));
    await page.locator('table[data-testid=audit-table] tr[data-testid=audit-row]').first().waitFor();
    const ndjson = await download(page.getByRole('link', { name: 'Export NDJSON' }));
    const lines = ndjson
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { userId: string; action: string });
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.every((entry) => entry.userId === user.userId || entry.userId === null)).toBe(true);
    expect(lines.map((entry) => entry.action)).toEqual(expect.arrayContaining(['user.register', 'user.login']));
    const csv = await download(page.getByRole('link', { name: 'Export CSV' }));
    expect(csv.trim().split('\r\n')).toHaveLength(lines.length + 1);
    expect(csv).toContain(user.userId);
  });

  it('renders a <script> in an email and in a User-Agent as text', async () => {
    const marker = `xss-${Date.now().toString(36)}`;
    // Registration refuses such an email, so the row is written as a migration or an import could have.
    const email = `<img src=x onerror=alert(1)>${marker}@example.com`;
    await sql(stack().databaseUrl, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES (gen_random_uuid(), $1, 'x', 'user', now())`, [
      email,
    ]);
    const victim = await register(stack(), uniqueEmail(marker));
    await login(stack(), victim.email, victim.password, '<script>alert("ua")</script> Evil/1.0');
    await page.goto(url('#/users'));
    await page.getByLabel('Search').fill(`<img`);
    await page.getByRole('button', { name: 'Search' }).click();
    await shows(page.locator('table[data-testid=users-table]'), email);
    await openUser(victim.userId);
    await shows(page.locator('table[data-testid=sessions-table]'), '<script>alert("ua")</script>');
    expect(watch.dialogs).toEqual([]);
    expect(await page.locator('table[data-testid=sessions-table] script').count()).toBe(0);
  });

  it('refuses a POST that carries the cookie but not the CSRF token, cross-site or not', async () => {
    const [user] = await signUp(stack(), 1, 'csrf-target');
    const target = `/admin/users/${user.userId}/disable`;
    // From another origin of the same site (127.0.0.1 on another port: SameSite=Strict lets the
    // cookie go along), a form post such as a page an operator opens could make.
    const attacker = await attackerPage(`${consoleStack.consoleUrl}${target}`);
    try {
      const forged = await context.newPage();
      const answer = forged.waitForResponse((response) => response.url().endsWith(target));
      await forged.goto(attacker.url);
      const refused = await answer;
      expect(refused.status()).toBeGreaterThanOrEqual(400);
      expect(refused.status()).toBeLessThan(500);
      await forged.close();
    } finally {
      await attacker.close();
    }
    // From the console's own origin, a script that has the cookie but not the token.
    const sameOrigin = await page.evaluate(async (path) => {
      const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: 'forged' }) });
      return { status: response.status, body: (await response.json()) as { code?: string } };
    }, target);
    expect(sameOrigin).toEqual({ status: 403, body: expect.objectContaining({ code: 'csrf_token_invalid' }) });
    expect(await meStatus(stack(), user.accessToken)).toBe(200);
    expect(await userView(user.userId)).toMatchObject({ status: 'active' });
  });

  it('signs out: the page returns to sign-in and the cookie no longer works', async () => {
    await page.goto(url('#/users'));
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('form[data-testid=sign-in]').waitFor();
    const after = await page.evaluate(() => fetch('/admin/auth/session').then((response) => response.status));
    expect(after).toBe(401);
  });

  it('is ended by the same machinery as any session: revoked elsewhere, the page is back at sign-in on its next request', async () => {
    await signIn(page, CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
    await shows(page.locator('[data-testid=signed-in-as]'), CONSOLE_ADMIN.email);
    const { sessionId } = await consoleSession();
    // The same administrator, from the REST API with a web API token, ends the console session.
    const adminLogin = await login(stack(), CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
    await stack()
      .adminHttp()
      .post(`/admin/sessions/${sessionId}/revoke`)
      .set(...bearer(adminLogin.accessToken))
      .send({ reason: 'console left open on a shared machine' })
      .expect(200);
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.locator('form[data-testid=sign-in]').waitFor();
    expect(await page.evaluate(() => fetch('/admin/auth/session').then((response) => response.status))).toBe(401);
  });

  it('wrote nothing to the console but the refusals the flows expected', () => {
    const unexpected = watch.errors.filter((error) => !/Failed to load resource: the server responded with a status of 40[13]/.test(error));
    expect(unexpected).toEqual([]);
  });
});

interface ConsoleSessionBody {
  readonly user: { readonly id: string; readonly email: string };
  readonly sessionId: string;
  readonly reauthenticatedUntil: string;
}

/** GET /admin/auth/session from the page, with its cookie. */
async function consoleSession(): Promise<ConsoleSessionBody> {
  return (await page.evaluate(() => fetch('/admin/auth/session').then((response) => response.json()))) as ConsoleSessionBody;
}

async function download(link: Locator): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  return readFile((await file.path()) ?? '', 'utf8');
}

/**
 * Another origin of the same site (127.0.0.1 on another port: SameSite lets the console's cookie
 * go along, so only the CSRF token stops the request) with a page that posts a form to `target`.
 */
async function attackerPage(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_request, response) => {
    response.setHeader('Content-Type', 'text/html');
    response.end(
      `<!doctype html><form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"reason":"forged","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
