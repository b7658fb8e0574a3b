import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../../scripts/build-console';
import { GENEROUS_RATE_LIMIT, startTestStack, type TestStack, type TestStackOptions } from '../../support/test-app';

export const CONSOLE_ADMIN = { email: 'operator@example.com', password: 'a long operator passphrase' };

/** A test file's service with the console page built into a directory of its own and both apps on real ports. */
export interface ConsoleStack {
  readonly stack: TestStack;
  /** http://127.0.0.1:<port> of the admin console (the page and /admin). */
  readonly consoleUrl: string;
  close(): Promise<void>;
}

export async function startConsoleStack(label: string, options: Partial<TestStackOptions> = {}): Promise<ConsoleStack> {
  const assets = await mkdtemp(join(tmpdir(), 'console-assets-'));
  await buildConsole(assets);
  const stack = await startTestStack({
    label,
    admin: CONSOLE_ADMIN,
    ...options,
    settings: {
      http: { host: '127.0.0.1', bodyLimit: '16kb', trustProxy: false, consoleAssetsDir: assets },
      rateLimit: GENEROUS_RATE_LIMIT,
      ...options.settings,
    },
  });
  await stack.admin.listen(0, '127.0.0.1');
  const { port } = stack.admin.getHttpServer().address() as AddressInfo;
  return {
    stack,
    consoleUrl: `http://127.0.0.1:${port}`,
    async close() {
      await stack.close();
      await rm(assets, { recursive: true, force: true });
    },
  };
}
