// The words of a run's estimate and of counts: grammatical for any number, rounded as people say
// durations, and a quick-look hint only for long runs.
import { describe, expect, it } from 'vitest';
import { count, estimate, estimateLine, roughly, stepsFor } from '../src/experiments/estimate.ts';

describe('estimate', () => {
  it('counts grammatically, with thousands separators', () => {
    expect(count(1, 'epoch')).toBe('1 epoch');
    expect(count(0, 'epoch')).toBe('0 epochs');
    expect(count(3, 'epoch')).toBe('3 epochs');
    expect(count(25000, 'step')).toBe('25,000 steps');
  });

  it('says durations roughly', () => {
    expect(roughly(0.2)).toBe('about 1 s');
    expect(roughly(42)).toBe('about 42 s');
    expect(roughly(62 * 60)).toBe('about 62 min');
    expect(roughly(3.5 * 3600)).toBe('about 3.5 h');
  });

  it('suggests a round number of steps for a quick look at a long run', () => {
    expect(stepsFor(300, 150)).toBe(2000);
    expect(stepsFor(300, 30)).toBe(10000);
    expect(stepsFor(300, 1e6)).toBe(1);
    // 25,000 steps at 148 ms and 26 evaluations of 200 ms: 3,750 s.
    const e = estimate(25000, 251, 148, 200);
    expect(e.seconds).toBeCloseTo(3750.2, 6);
    expect(estimateLine(e, 'google swiftshader (software)', 'steps', 'step', 100)).toBe('about 63 min for 25,000 steps on google swiftshader (software); try --steps 2000 for a quick look');
    expect(estimateLine(estimate(2000, 21, 148, 200), 'a', 'steps', 'step', 100)).toBe('about 5 min for 2,000 steps on a');
  });
});
