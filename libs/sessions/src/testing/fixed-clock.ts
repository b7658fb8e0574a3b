import { Clock } from '../application/ports/clock.port';

/** A clock that stands still until the test moves it (`current`). */
export class FixedClock implements Clock {
  constructor(public current = new Date('2026-11-23T12:00:00Z')) {}
  now(): Date {
    return new Date(this.current);
  }
}
