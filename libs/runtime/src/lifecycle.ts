/**
 * Where the process is in its life, shared by every app it runs: serving, or shutting down (from
 * the first SIGTERM or SIGINT on). The readiness probe reads it, so that load balancers stop
 * routing to an instance as soon as its shutdown begins, while it still serves what they send
 * during the drain.
 */
export class ProcessLifecycle {
  private shutdownStartedAt: number | undefined;

  /** True from the moment the shutdown began. */
  get shuttingDown(): boolean {
    return this.shutdownStartedAt !== undefined;
  }

  /** When the shutdown began (ms since the epoch), if it did. */
  get shutdownSince(): number | undefined {
    return this.shutdownStartedAt;
  }

  /** Marks the shutdown as begun; later calls keep the first moment. */
  beginShutdown(now = Date.now()): void {
    this.shutdownStartedAt ??= now;
  }
}
