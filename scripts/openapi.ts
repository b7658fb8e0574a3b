/**
 * `npm run lint:openapi`: builds both apps as they are served (in embedded mode, so neither
 * PostgreSQL nor Redis is needed), reads each OpenAPI document from the app's own /docs-json,
 * writes them to a temporary directory (and, with --write, to docs/openapi/), and runs Redocly's
 * lint on both with redocly.yaml. Exits 1 unless the lint finds no error and no warning.
 */
import { createAppLogger, loadRuntimeSettings, startRuntime } from '@app/runtime';
import type { INestApplication } from '@nestjs/common';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAdminConsole } from '../apps/admin-console/src/admin-console';
import { createWebApi } from '../src/web-api';

/** Where the committed copies live; test/e2e/openapi.e2e-spec.ts checks they are current. */
export const COMMITTED_DOCUMENTS_DIR = 'docs/openapi';

interface LintTotals {
  readonly errors: number;
  readonly warnings: number;
}

async function main(): Promise<void> {
  const write = process.argv.includes('--write');
  const root = resolve(__dirname, '..', '..');
  // A clean environment: whatever this shell exports (a DATABASE_URL, API_DOCS=off) must not change the documents.
  const { settings } = loadRuntimeSettings({ NODE_ENV: 'test', API_DOCS: 'on', ACCESS_TOKEN_SECRET: randomBytes(32).toString('base64url') });
  const runtime = await startRuntime({ ...settings, logger: createAppLogger({ nodeEnv: 'test', level: 'error' }) });
  const apps: Array<[string, INestApplication]> = [];
  try {
    apps.push(['web-api', await createWebApi(runtime, { seedAdmin: false })]);
    apps.push(['admin-console', await createAdminConsole(runtime, { seedAdmin: false })]);
    const outDir = mkdtempSync(join(tmpdir(), 'openapi-'));
    const files: string[] = [];
    for (const [name, app] of apps) {
      const text = `${JSON.stringify(await servedDocument(app), null, 2)}\n`;
      const file = join(outDir, `${name}.json`);
      writeFileSync(file, text);
      files.push(file);
      if (write) {
        mkdirSync(join(root, COMMITTED_DOCUMENTS_DIR), { recursive: true });
        writeFileSync(join(root, COMMITTED_DOCUMENTS_DIR, `${name}.json`), text);
      }
    }
    console.log(`OpenAPI documents written to ${outDir}${write ? ` and ${COMMITTED_DOCUMENTS_DIR}/` : ''}`);
    const totals = lint(root, files);
    if (totals.errors > 0 || totals.warnings > 0) {
      console.error(`redocly lint: ${totals.errors} error(s), ${totals.warnings} warning(s); both must be 0`);
      process.exitCode = 1;
    }
  } finally {
    await Promise.allSettled(apps.map(([, app]) => app.close()));
    await runtime.close();
  }
}

/** The document exactly as the app serves it: over HTTP, from /docs-json. */
async function servedDocument(app: INestApplication): Promise<unknown> {
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const response = await fetch(`http://127.0.0.1:${port}/docs-json`);
  if (!response.ok) throw new Error(`GET /docs-json answered ${response.status}`);
  return response.json();
}

/** Runs the lint over both files for people to read, then once per file to count what it found. */
function lint(root: string, files: readonly string[]): LintTotals {
  const redocly = join(root, 'node_modules', '.bin', 'redocly');
  const config = ['--config', join(root, 'redocly.yaml')];
  // No usage report to Redocly and no update notice: CI runs this.
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  spawnSync(redocly, ['lint', ...config, ...files], { stdio: 'inherit', cwd: root, env });
  // The JSON format writes one report per file, so each file is counted on its own.
  return files.reduce<LintTotals>(
    (sum, file) => {
      const counted = spawnSync(redocly, ['lint', ...config, '--format', 'json', file], { cwd: root, env, encoding: 'utf8' });
      if (counted.error) throw counted.error;
      const report = JSON.parse(counted.stdout) as { totals?: LintTotals };
      if (!report.totals) throw new Error(`redocly lint gave no totals for ${file} (exit ${counted.status}): ${counted.stderr}`);
      return { errors: sum.errors + report.totals.errors, warnings: sum.warnings + report.totals.warnings };
    },
    { errors: 0, warnings: 0 },
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
