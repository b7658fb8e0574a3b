import { type Browser, type BrowserContext, chromium, type Dialog, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`; `.ci/run` installs it when absent). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * As root in a sandbox: no Chromium sandbox, no GPU; and nothing that phones home (this machine's
 * network is closed: without these, Chromium's background connections fail by the dozen and its
 * start-up waits on name lookups). Playwright adds --headless and a fresh profile directory.
 */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
}

/**
 * What a page did that an operator would not see but a test must: console errors (a CSP
 * violation is one), uncaught exceptions, and dialogs (an injected `<script>` that ran would open one).
 */
export class PageWatch {
  readonly errors: string[] = [];
  readonly dialogs: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.errors.push(`pageerror: ${error.message}`));
    page.on('dialog', (dialog: Dialog) => {
      this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }
}

/** A new context (its own cookie jar) and page, watched. */
export async function openWatchedPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  return { context, page, watch: new PageWatch(page) };
}
