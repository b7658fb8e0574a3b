import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * A web page an app serves beside its API (the admin console's). Its files get the page's own
 * Content-Security-Policy (PAGE_CONTENT_SECURITY_POLICY) instead of the API's, and
 * `Cache-Control: no-cache` instead of `no-store`: they hold no secret and are the same for
 * everyone, but a browser must revalidate them (ETag) so that a new build is used at once.
 */
export interface WebPage {
  /** Whether a request path is one of the page's files. */
  isPagePath(path: string): boolean;
  /** Registers the page's routes, before the app is initialised (after the edge's request hooks). */
  serve(app: NestFastifyApplication): Promise<void>;
}
