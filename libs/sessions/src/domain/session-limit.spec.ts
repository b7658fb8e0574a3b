import { sessionLimitDecision } from './session-limit';

const live = (n: number) => Array.from({ length: n }, (_, i) => `s${i + 1}`);

describe('sessionLimitDecision', () => {
  it('opens without a cap, however many sessions are live', () => {
    expect(sessionLimitDecision({ maxPerUser: null, policy: 'deny_new' }, live(50))).toEqual({ kind: 'open', evict: [] });
  });

  it('opens below the cap, evicting nothing, under either policy', () => {
    expect(sessionLimitDecision({ maxPerUser: 3, policy: 'evict_oldest' }, live(2))).toEqual({ kind: 'open', evict: [] });
    expect(sessionLimitDecision({ maxPerUser: 3, policy: 'deny_new' }, live(2))).toEqual({ kind: 'open', evict: [] });
  });

  it('evict_oldest at the cap ends the oldest one: the cap is live once the new one is', () => {
    expect(sessionLimitDecision({ maxPerUser: 3, policy: 'evict_oldest' }, live(3))).toEqual({ kind: 'open', evict: ['s1'] });
  });

  it('evict_oldest over the cap (it was lowered) ends every oldest one past it', () => {
    expect(sessionLimitDecision({ maxPerUser: 2, policy: 'evict_oldest' }, live(5))).toEqual({ kind: 'open', evict: ['s1', 's2', 's3', 's4'] });
    expect(sessionLimitDecision({ maxPerUser: 1, policy: 'evict_oldest' }, live(1))).toEqual({ kind: 'open', evict: ['s1'] });
  });

  it('deny_new at or over the cap refuses, saying how many are live', () => {
    expect(sessionLimitDecision({ maxPerUser: 3, policy: 'deny_new' }, live(3))).toEqual({ kind: 'deny', maxPerUser: 3, live: 3 });
    expect(sessionLimitDecision({ maxPerUser: 1, policy: 'deny_new' }, live(4))).toEqual({ kind: 'deny', maxPerUser: 1, live: 4 });
  });
});
