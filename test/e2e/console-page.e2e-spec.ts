import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_CONTENT_SECURITY_POLICY, API_CONTENT_SECURITY_POLICY } from '../../libs/runtime/src/http/security-headers';
import { buildConsole } from '../../scripts/build-console';
import { startTestStack, type TestStack } from '../support/test-app';

const WEB_SOURCES = join(__dirname, '..', '..', 'apps', 'admin-console', 'web', 'src');
const LOOPBACK = { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false } as const;

/** helmet's rendering of a directives object: `name value value;name value`. */
function rendered(policy: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(policy)
    .map(([name, values]) => [name, ...values].join(' '))
    .join(';');
}

describe('the admin console page, as served', () => {
  let assetsDir: string;
  let stack: TestStack;

  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'console-page-'));
    await buildConsole(assetsDir);
    stack = await startTestStack({ label: 'console-page', redis: false, settings: { http: { ...LOOPBACK, consoleAssetsDir: assetsDir } } });
    // A bundle build and a service start: more than the default 5 s on a loaded machine.
  }, 30_000);

  afterAll(async () => {
    await stack?.close();
    rmSync(assetsDir, { recursive: true, force: true });
  });

  it('serves index.html at / with the page policy: scripts and styles from this origin only, never framed', async () => {
    const page = await stack.adminHttp().get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';base-uri 'none';form-action 'self';frame-ancestors 'none'",
    );
    expect(page.headers['content-security-policy']).toBe(rendered(PAGE_CONTENT_SECURITY_POLICY));
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers.etag).toBeDefined();
    expect(page.text).toContain('<script type="module" src="/console.js"></script>');
  });

  it('has nothing inline the policy would have to allow: no inline script, no <style>, no style attribute', () => {
    const html = readFileSync(join(assetsDir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
    expect(scripts).toEqual(['<script type="module" src="/console.js"></script>'.replace('</script>', '')]);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    // The bundle evaluates no strings as code (the policy has no 'unsafe-eval').
    const bundle = readFileSync(join(assetsDir, 'console.js'), 'utf8');
    expect(/\beval\(|new Function\(/.test(bundle)).toBe(false);
    // And the page's own code renders every value as text: it never hands HTML to the DOM.
    const sources = readdirSync(WEB_SOURCES).filter((file) => /\.tsx?$/.test(file));
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      expect({
        file,
        html: /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(readFileSync(join(WEB_SOURCES, file), 'utf8')),
      }).toEqual({ file, html: false });
    }
  });

  it('serves the bundle, its stylesheet and source map, revalidated by ETag', async () => {
    const script = await stack.adminHttp().get('/console.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^application\/javascript|^text\/javascript/);
    expect(script.headers['cache-control']).toBe('no-cache');
    await stack.adminHttp().get('/console.js').set('If-None-Match', script.headers.etag).expect(304);
    const style = await stack.adminHttp().get('/console.css').expect(200);
    expect(style.headers['content-type']).toMatch(/^text\/css/);
    await stack.adminHttp().get('/console.js.map').expect(200);
  });

  it('leaves the REST API its own stricter policy and no-store, and answers other paths as the API does', async () => {
    const api = await stack.adminHttp().get('/admin/audit').expect(401);
    expect(api.headers['content-security-policy']).toBe(rendered(API_CONTENT_SECURITY_POLICY));
    expect(api.headers['cache-control']).toBe('no-store');
    const unknown = await stack.adminHttp().get('/console.json').expect(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.headers['content-security-policy']).toBe(rendered(API_CONTENT_SECURITY_POLICY));
    await stack.adminHttp().get('/../package.json').expect(404);
  });

  it('is not served by the web API', async () => {
    await stack.http().get('/').expect(404);
    await stack.http().get('/console.js').expect(404);
  });
});

describe('the admin console page, not built', () => {
  let stack: TestStack;
  let emptyDir: string;

  beforeAll(async () => {
    emptyDir = mkdtempSync(join(tmpdir(), 'console-unbuilt-'));
    stack = await startTestStack({ label: 'console-unbuilt', redis: false, settings: { http: { ...LOOPBACK, consoleAssetsDir: emptyDir } } });
  });

  afterAll(async () => {
    await stack?.close();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('answers / with a 503 problem that says to run npm run build', async () => {
    const response = await stack.adminHttp().get('/').expect(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 503, detail: expect.stringContaining('npm run build') });
  });
});
