import { problemResponse, ProblemDetailsSchema, type ProblemStatus } from '@app/platform';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, getSchemaPath, type OpenAPIObject, type OperationObject, type PathItemObject, SwaggerModule } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RuntimeSettings } from '../runtime-settings';

export interface ApiTag {
  readonly name: string;
  readonly description: string;
}

/** A credential sent as a cookie (OpenAPI's apiKey scheme `in: cookie`). */
export interface ApiCookieScheme {
  /** The security scheme's name, as ApiCookieAuth(name) refers to it. */
  readonly scheme: string;
  readonly cookieName: string;
  readonly description: string;
}

/** What an app says about itself in its OpenAPI document. */
export interface ApiDocsDescription {
  /** A cookie credential the app accepts besides the Bearer token. */
  readonly cookieAuth?: ApiCookieScheme;
  /** A Bearer credential of another kind than the access token (the web API's service client secrets), by scheme name. */
  readonly otherBearerAuth?: { readonly scheme: string; readonly description: string };
  readonly title: string;
  readonly description: string;
  /** The tags its controllers use (`@ApiTags`), each described; `health` is added here. */
  readonly tags: readonly ApiTag[];
}

/** The probes' controller lives in the runtime, so its tag does too. */
const HEALTH_TAG: ApiTag = { name: 'health', description: 'Liveness and readiness probes, for orchestrators and load balancers' };

/** The security scheme ApiBearerAuth() names by default. */
export const BEARER_SCHEME = 'bearer';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * OpenAPI at /docs (Swagger UI) and /docs-json, unless API_DOCS is off: then neither route
 * exists and both answer 404 like any unknown path.
 */
export function serveApiDocs(app: INestApplication, settings: RuntimeSettings, description: ApiDocsDescription): void {
  if (!(settings.http.apiDocs ?? true)) return;
  SwaggerModule.setup('docs', app, buildApiDocument(app, description), { jsonDocumentUrl: 'docs-json' });
}

/**
 * The app's document: @nestjs/swagger's scan of its controllers, with the project's name,
 * version and license, relative `servers` (the document is right wherever the app is reached),
 * operationIds that are the handlers' names, and what the shared HTTP edge answers on every
 * route (see documentHttpEdge).
 */
export function buildApiDocument(app: INestApplication, description: ApiDocsDescription): OpenAPIObject {
  const project = projectPackage();
  const builder = new DocumentBuilder()
    .setTitle(description.title)
    .setDescription(description.description)
    .setVersion(project.version)
    .setLicense(project.license, licenseUrl(project.license))
    .addServer('/', 'This app, wherever it is reached')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /auth/login or /auth/refresh on the web API' },
      BEARER_SCHEME,
    );
  if (description.cookieAuth) {
    const { scheme, cookieName, description: about } = description.cookieAuth;
    builder.addCookieAuth(cookieName, { type: 'apiKey', in: 'cookie', name: cookieName, description: about }, scheme);
  }
  if (description.otherBearerAuth) {
    builder.addBearerAuth({ type: 'http', scheme: 'bearer', description: description.otherBearerAuth.description }, description.otherBearerAuth.scheme);
  }
  for (const tag of [...description.tags, HEALTH_TAG]) builder.addTag(tag.name, tag.description);
  const document = SwaggerModule.createDocument(app, builder.build(), { operationIdFactory: (_controller, method) => method });
  requireUniqueOperationIds(document);
  documentHttpEdge(document);
  return document;
}

/**
 * What the edge createHttpApp sets up answers, whatever the route: a body that is not JSON
 * (415), too large (413), malformed or refused by the validation pipe (400); a path or query
 * parameter the pipes refuse (400). A route may already document its 400 more precisely, and
 * keeps that description. An operation that declares no security requirement is public, and
 * says so with `security: []` rather than leaving a client to guess.
 */
export function documentHttpEdge(document: OpenAPIObject): void {
  const schemas = ((document.components ??= {}).schemas ??= {});
  const problemSchema = getSchemaPath(ProblemDetailsSchema).split('/').pop()!;
  if (!schemas[problemSchema]) throw new Error('The ProblemDetails schema is not registered: no route documents a problem (ApiProblem)');
  for (const operation of operationsOf(document)) {
    const edge: ProblemStatus[] = [];
    if ((operation.parameters ?? []).length > 0) edge.push(400);
    if (operation.requestBody) edge.push(400, 413, 415);
    for (const status of edge) operation.responses[String(status)] ??= problemResponse(status);
    operation.responses = sortedByStatus(operation.responses);
    operation.security ??= [];
  }
}

/** Every operation of the document, in path order. */
export function operationsOf(document: OpenAPIObject): OperationObject[] {
  return Object.values(document.paths).flatMap((item: PathItemObject) =>
    HTTP_METHODS.map((method) => item[method]).filter((operation): operation is OperationObject => operation !== undefined),
  );
}

/** A generated client names its functions after operationIds: two handlers of one name (in two controllers) would collide. */
function requireUniqueOperationIds(document: OpenAPIObject): void {
  const seen = new Set<string>();
  for (const operation of operationsOf(document)) {
    const id = operation.operationId ?? '';
    if (seen.has(id)) throw new Error(`Two routes of "${document.info.title}" have the handler name ${id}; rename one (it is their OpenAPI operationId)`);
    seen.add(id);
  }
}

function sortedByStatus(responses: OperationObject['responses']): OperationObject['responses'] {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

interface ProjectPackage {
  readonly version: string;
  readonly license: string;
}

/**
 * The repository's package.json (name, version, license), found upwards from this file: the
 * same from the sources (tests) and from dist/ (the build keeps the tree under dist/).
 */
function projectPackage(): ProjectPackage {
  for (let directory = __dirname; ; directory = dirname(directory)) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      const found = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string; license?: string };
      if (found.name === 'session-revocation-service' && found.version && found.license) return { version: found.version, license: found.license };
    }
    if (dirname(directory) === directory) throw new Error(`No package.json of session-revocation-service above ${__dirname}`);
  }
}

function licenseUrl(spdx: string): string {
  return spdx === 'Apache-2.0' ? 'https://www.apache.org/licenses/LICENSE-2.0' : `https://spdx.org/licenses/${spdx}.html`;
}
