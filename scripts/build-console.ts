/**
 * Builds the admin console's web page (apps/admin-console/web) into `dist/console/`: index.html,
 * console.js (Preact and the page, one minified bundle) with its source map, and console.css.
 * `npm run build` runs it after swc, so `npm start` serves the page; tests call buildConsole with
 * a directory of their own. Names are fixed (no content hash): the console serves them with
 * `Cache-Control: no-cache`, so a browser revalidates them (ETag) instead of keeping a stale copy.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONSOLE_BUILD_DIR } from '../apps/admin-console/src/console-page';

/** The repository's root, found upwards from this file: the same from scripts/ (tests) and dist/scripts/ (npm run build). */
function repositoryRoot(): string {
  for (let directory = __dirname; ; directory = dirname(directory)) {
    if (existsSync(join(directory, 'apps', 'admin-console', 'web', 'index.html'))) return directory;
    if (dirname(directory) === directory) throw new Error(`No apps/admin-console/web above ${__dirname}`);
  }
}

/** Writes index.html, console.js, console.js.map and console.css into outDir (made if missing). */
export async function buildConsole(outDir: string): Promise<void> {
  const web = join(repositoryRoot(), 'apps', 'admin-console', 'web');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [
      { in: join(web, 'src', 'main.tsx'), out: 'console' },
      { in: join(web, 'console.css'), out: 'console' },
    ],
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    target: 'es2022',
    format: 'esm',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(web, 'tsconfig.json'),
    // Nothing is fetched at run time: every module is in the bundle; a stray Node import fails the build.
    platform: 'browser',
    logLevel: 'warning',
  });
  copyFileSync(join(web, 'index.html'), join(outDir, 'index.html'));
}

if (require.main === module) {
  const outDir = resolve(repositoryRoot(), CONSOLE_BUILD_DIR);
  buildConsole(outDir).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
