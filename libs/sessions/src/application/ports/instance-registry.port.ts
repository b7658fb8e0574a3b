/** Which process instances are alive: each one beats, recovery trusts only silence. */
export interface InstanceRegistry {
  /** Records that the instance is alive now, by the database's clock; the first beat registers it. */
  heartbeat(instanceId: string): Promise<void>;
  /** Forgets instances silent for longer than this (their operations were closed long ago). */
  forgetSilentFor(ms: number): Promise<number>;
}
export const INSTANCE_REGISTRY = Symbol('InstanceRegistry');
