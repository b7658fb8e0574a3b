import fastifyStatic from '@fastify/static';
import { problem, PROBLEM_CONTENT_TYPE } from '@app/platform';
import type { WebPage } from '@app/runtime';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where `npm run build` writes the page (scripts/build-console.ts), relative to the repository's root. */
export const CONSOLE_BUILD_DIR = join('dist', 'console');

/** The files the build writes: the page and its source maps. Only these get the page's CSP and caching. */
const PAGE_PATH = /^\/(?:index\.html|console\.(?:js|css)(?:\.map)?)?$/;

/**
 * The repository's root, found upwards from this file (by its package.json): the same from the
 * sources (tests) and from dist/ (npm start), whatever the working directory.
 */
function repositoryRoot(): string {
  for (let directory = __dirname; ; directory = dirname(directory)) {
    if (existsSync(join(directory, 'package.json'))) return directory;
    if (dirname(directory) === directory) throw new Error(`No package.json above ${__dirname}`);
  }
}

/** ADMIN_CONSOLE_ASSETS_DIR, else the build output. */
export function consoleAssetsDir(configured: string | undefined): string {
  return configured === undefined ? join(repositoryRoot(), CONSOLE_BUILD_DIR) : resolve(configured);
}

/**
 * The admin console's page at `/` of the admin app: index.html, console.js and console.css from
 * the built directory, with ETag and Last-Modified (no directory listing, no other path). The
 * files are listed once at start-up. Without a build there, `/` answers a 503 problem that says
 * how to make one, rather than a bare 404 a newcomer cannot act on.
 */
export function consolePage(assetsDir: string): WebPage {
  return {
    isPagePath: (path) => PAGE_PATH.test(path),
    async serve(app: NestFastifyApplication) {
      if (!existsSync(join(assetsDir, 'index.html'))) {
        const body = problem(503, `The admin console page is not built (no index.html in ${assetsDir}): run \`npm run build\`, then start the service again.`);
        app
          .getHttpAdapter()
          .getInstance()
          .get('/', (_request, reply) => reply.code(503).type(PROBLEM_CONTENT_TYPE).send(body));
        return;
      }
      await app.register(fastifyStatic, {
        root: assetsDir,
        prefix: '/',
        // Routes for the files present now, not a wildcard: any other path stays the API's 404.
        wildcard: false,
        index: ['index.html'],
        // Swagger UI's own static server already decorates nothing either; two decorations would clash.
        decorateReply: false,
        // Cache-Control is the edge's (no-cache on these paths, see preventCaching).
        cacheControl: false,
        serveDotFiles: false,
      });
    },
  };
}
