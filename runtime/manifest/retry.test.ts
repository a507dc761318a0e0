import { describe, expect, it } from 'vitest';
import { BUILTIN_RETRY, MAX_QUEUE_DELAY_SECONDS, resolveRetryPolicy, retryDelaySeconds } from './retry.ts';
import { parseDuration } from '../lib/duration.ts';

const policy = (input: Parameters<typeof resolveRetryPolicy>[1]) => resolveRetryPolicy(BUILTIN_RETRY, input);

describe('retry policy', () => {
  it('follows fixed, linear and exponential backoff (no jitter at random = 0.5)', () => {
    const delays = (p: ReturnType<typeof policy>) => [1, 2, 3, 4, 5].map((a) => retryDelaySeconds(p, a, 0.5));
    expect(delays(policy({ backoff: 'fixed', initial_delay: '10s', jitter: 0 }))).toEqual([10, 10, 10, 10, 10]);
    expect(delays(policy({ backoff: 'linear', initial_delay: '10s', jitter: 0.3 }))).toEqual([10, 20, 30, 40, 50]);
    expect(delays(policy({ backoff: 'exponential', initial_delay: '10s', jitter: 0.3 }))).toEqual([
      10, 20, 40, 80, 160,
    ]);
  });

  it("caps the delay at max_delay, and at Queues' 12 hours whatever max_delay says", () => {
    expect(retryDelaySeconds(policy({ initial_delay: '1m', max_delay: '5m', jitter: 0 }), 10, 0.5)).toBe(300);
    expect(retryDelaySeconds(policy({ initial_delay: '1h', max_delay: '2d', jitter: 0 }), 30, 0.5)).toBe(
      MAX_QUEUE_DELAY_SECONDS,
    );
    expect(retryDelaySeconds(policy({ initial_delay: '1m', max_delay: '5m', jitter: 0.5 }), 10, 0.999)).toBe(300);
  });

  it('spreads delays by the jitter fraction, both ways', () => {
    const p = policy({ backoff: 'fixed', initial_delay: '100s', jitter: 0.2 });
    expect(retryDelaySeconds(p, 1, 0)).toBe(80);
    expect(retryDelaySeconds(p, 1, 0.999)).toBe(120);
    const samples = Array.from({ length: 1000 }, () => retryDelaySeconds(p, 1));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...samples)).toBeLessThanOrEqual(120);
  });

  it('layers an integration override over the defaults field by field', () => {
    const base = policy({ backoff: 'linear', initial_delay: '5s', max_attempts: 8 });
    expect(resolveRetryPolicy(base, { max_attempts: 2 })).toEqual({ ...base, maxAttempts: 2 });
  });

  it('parses durations and refuses anything else', () => {
    expect(['250ms', '30s', '5m', '12h', '7d'].map(parseDuration)).toEqual([
      250, 30_000, 300_000, 43_200_000, 604_800_000,
    ]);
    expect(() => parseDuration('5 minutes')).toThrow('invalid duration');
  });

  it('applies the built-in policy when nothing is set: exponential from 30 s, capped at 1 h, 5 attempts', () => {
    expect(resolveRetryPolicy(BUILTIN_RETRY)).toEqual({
      backoff: 'exponential',
      initialDelayMs: 30_000,
      maxDelayMs: 3_600_000,
      jitter: 0.2,
      maxAttempts: 5,
    });
    expect([1, 2, 3, 7, 8].map((a) => retryDelaySeconds(BUILTIN_RETRY, a, 0.5))).toEqual([30, 60, 120, 1920, 3600]);
  });

  it('layers defaults, then an integration, then a step, skipping the layers that are not set', () => {
    const layered = resolveRetryPolicy(BUILTIN_RETRY, { max_attempts: 10, initial_delay: '1m' }, undefined, {
      max_attempts: 3,
    });
    expect(layered).toEqual({ ...BUILTIN_RETRY, initialDelayMs: 60_000, maxAttempts: 3 });
  });

  it('refuses a malformed duration in any layer, quoting it', () => {
    expect(() => resolveRetryPolicy(BUILTIN_RETRY, { max_delay: '6 hours' })).toThrow('invalid duration "6 hours"');
  });

  it('reads an attempt below 1 as the first, and never waits less than 0 s', () => {
    const p = policy({ backoff: 'exponential', initial_delay: '10s', jitter: 1 });
    expect(retryDelaySeconds(p, 0, 0.5)).toBe(10);
    expect(retryDelaySeconds(p, 1, 0)).toBe(0);
  });
});
