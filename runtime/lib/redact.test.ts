import { describe, expect, it } from 'vitest';
import { secretRedactor } from './redact.ts';

describe('secretRedactor', () => {
  const secret = 'sk_live k/9+"x\\y';
  const redact = secretRedactor([secret]);

  it('replaces the secret as is, URL- and form-encoded, JSON-escaped and base64, and leaves other text alone', () => {
    for (const echo of [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ a: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
      btoa(secret),
    ]) {
      expect(redact(`key ${echo} refused`)).toBe('key [redacted] refused');
    }
    expect(redact('nothing secret here')).toBe('nothing secret here');
  });

  it('finds the secret inside a base64 credential, whatever precedes it', () => {
    for (const user of ['u', 'us', 'use']) expect(redact(`Basic ${btoa(`${user}:${secret}`)}`)).toContain('[redacted]');
  });

  it('ignores secrets too short to tell from ordinary words', () => {
    expect(secretRedactor(['abc'])('abc abc')).toBe('abc abc');
  });
});
