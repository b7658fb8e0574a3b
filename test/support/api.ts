import { randomUUID } from 'node:crypto';
import type { TestStack } from './test-app';

export interface SignedIn {
  readonly userId: string;
  readonly email: string;
  readonly password: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sessionId: string;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

export async function register(
  stack: TestStack,
  email = uniqueEmail(),
  password = 'correct horse battery',
): Promise<{ userId: string; email: string; password: string }> {
  const response = await stack.http().post('/auth/register').send({ email, password }).expect(201);
  return { userId: response.body.userId, email, password };
}

export async function login(stack: TestStack, email: string, password: string, userAgent = 'jest-client'): Promise<Omit<SignedIn, 'email' | 'password'>> {
  const response = await stack.http().post('/auth/login').set('User-Agent', userAgent).send({ email, password }).expect(200);
  const me = await stack.http().get('/auth/me').set('Authorization', `Bearer ${response.body.accessToken}`).expect(200);
  return { userId: me.body.userId, accessToken: response.body.accessToken, refreshToken: response.body.refreshToken, sessionId: response.body.sessionId };
}

/** A new account signed in on `devices` devices. */
export async function signUp(stack: TestStack, devices = 1, label = 'user'): Promise<SignedIn[]> {
  const account = await register(stack, uniqueEmail(label));
  const sessions: SignedIn[] = [];
  for (let i = 0; i < devices; i += 1) {
    sessions.push({ ...account, ...(await login(stack, account.email, account.password, `device-${i}`)) });
  }
  return sessions;
}

export function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`];
}

/** Status of GET /auth/me with the token: 200 while the session lives, 401 after. */
export async function meStatus(stack: TestStack, accessToken: string): Promise<number> {
  return (
    await stack
      .http()
      .get('/auth/me')
      .set(...bearer(accessToken))
  ).status;
}
