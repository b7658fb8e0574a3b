/**
 * Who caused something to happen: a signed-in user, an administrator, the system itself, or a
 * service (a module of the host acting on its own behalf, named).
 */
export type ActorType = 'user' | 'admin' | 'system' | 'service';
export const ACTOR_TYPES: readonly ActorType[] = ['user', 'admin', 'system', 'service'];

export interface Actor {
  readonly type: ActorType;
  /** The acting user's id; null for the system, a service, or an anonymous caller (for example a failed login). */
  readonly id: string | null;
  /** A service's name, recorded in the audit trail (actor_name); only a service has one. */
  readonly name?: string;
}

/** What a service may be called: 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit. */
export const SERVICE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const Actors = {
  user: (id: string): Actor => ({ type: 'user', id }),
  admin: (id: string): Actor => ({ type: 'admin', id }),
  system: (): Actor => ({ type: 'system', id: null }),
  anonymous: (): Actor => ({ type: 'user', id: null }),
  /** A module acting on its own behalf, e.g. `Actors.service('billing')`; a command refuses a name outside SERVICE_NAME_PATTERN. */
  service: (name: string): Actor => ({ type: 'service', id: null, name }),
} as const;
