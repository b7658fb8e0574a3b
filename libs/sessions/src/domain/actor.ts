/** Who caused something to happen: a signed-in user, an administrator, or the system itself. */
export type ActorType = 'user' | 'admin' | 'system';
export const ACTOR_TYPES: readonly ActorType[] = ['user', 'admin', 'system'];

export interface Actor {
  readonly type: ActorType;
  /** The acting user's id; null for the system or for an anonymous caller (for example a failed login). */
  readonly id: string | null;
}

export const Actors = {
  user: (id: string): Actor => ({ type: 'user', id }),
  admin: (id: string): Actor => ({ type: 'admin', id }),
  system: (): Actor => ({ type: 'system', id: null }),
  anonymous: (): Actor => ({ type: 'user', id: null }),
} as const;
