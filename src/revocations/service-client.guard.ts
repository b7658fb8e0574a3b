import { ProblemException } from '@app/platform';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';

/** The OpenAPI security scheme of the secret (web-api.ts declares it). */
export const SERVICE_CLIENT_SCHEME = 'serviceClient';

/** The configured service clients (SERVICE_CLIENTS): a name and the hex SHA-256 of its secret. */
export const SERVICE_CLIENTS = Symbol('ServiceClients');
export type ServiceClients = ReadonlyArray<{ readonly name: string; readonly secretSha256: string }>;

/** Set on the request for the route (and its log line): which service asked. */
export interface ServiceClientRequest {
  serviceClient?: string;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/**
 * Lets in a request whose Bearer is the secret of a configured service client. The secret's
 * SHA-256 is compared with every client's, each in constant time and all of them every time, so
 * neither the timing nor the work says which client nearly matched. Only hashes are configured:
 * the environment never holds a secret that would let one read the feed. A user's access token is
 * no such secret (its hash matches nothing), and the secret is no access token (it is not a JWT),
 * so neither credential opens the other's routes. Anything else: 401, the same for a missing, a
 * malformed and a wrong secret.
 */
@Injectable()
export class ServiceClientGuard implements CanActivate {
  private readonly clients: ReadonlyArray<{ name: string; hash: Buffer }>;

  constructor(@Inject(SERVICE_CLIENTS) clients: ServiceClients) {
    this.clients = clients.map(({ name, secretSha256 }) => ({ name, hash: Buffer.from(secretSha256, 'hex') }));
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined> } & ServiceClientRequest>();
    const header = request.headers.authorization;
    const secret = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const presented = createHash('sha256')
      .update(secret ?? '')
      .digest();
    let matched: string | undefined;
    for (const client of this.clients) {
      if (timingSafeEqual(client.hash, presented) && secret !== undefined) matched ??= client.name;
    }
    if (matched === undefined) {
      throw new ProblemException(401, 'This route takes the Bearer secret of a configured service client (SERVICE_CLIENTS)', {
        code: 'service_client_required',
      });
    }
    request.serviceClient = matched;
    return true;
  }
}
