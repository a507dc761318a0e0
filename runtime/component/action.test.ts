/** How an action reads a provider's refusal: when to retry (Retry-After), and the error code a caller sees. */
import { describe, expect, it } from 'vitest';
import { ActionError, errorCode, parseRetryAfter, providerError } from './action.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds, spaces allowed around it', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP date as the seconds until then, rounded up, and never below 0', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', NOW)).toBe(90);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:00 GMT', NOW + 500)).toBe(0);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW + 1500).toUTCString(), NOW)).toBe(1);
  });

  it('ignores a missing or unreadable header', () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });

  it('ignores a negative or fractional number rather than reading it as a date (Date.parse("-5") is the year 2001)', () => {
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined();
  });
});

describe('errorCode', () => {
  it('finds the code in the shapes APIs answer with, the nested one first', () => {
    expect(errorCode('{"error":{"code":"card_declined","type":"card_error"}}')).toBe('card_declined');
    expect(errorCode('{"error":{"type":"invalid_request_error"}}')).toBe('invalid_request_error');
    expect(errorCode('{"code":"rate_limited","error":"slow down"}')).toBe('rate_limited');
    expect(errorCode('{"error":"invalid_grant"}')).toBe('invalid_grant');
    expect(errorCode('{"code":21211,"message":"Invalid To number"}')).toBe('21211');
  });

  it('keeps only short identifiers: a sentence, a long string or a fraction is not a code', () => {
    expect(errorCode('{"error":"The request was invalid, please retry"}')).toBeUndefined();
    expect(errorCode(JSON.stringify({ code: 'x'.repeat(65) }))).toBeUndefined();
    expect(errorCode('{"code":1.5}')).toBeUndefined();
  });

  it('is undefined for a body that is not a JSON object', () => {
    for (const text of ['', 'Bad Gateway', '"card_declined"', 'null', '[{"code":"x"}]'])
      expect(errorCode(text)).toBeUndefined();
  });
});

describe('providerError', () => {
  const answer = (status: number, body: string, headers: Record<string, string> = {}) =>
    providerError('stripe', new Response(body, { status, headers }), NOW, (t) =>
      t.replaceAll('sk_live_123', '[redacted]'),
    );

  it('retries 408, 429 and 5xx, honouring Retry-After; any other 4xx is permanent', async () => {
    const limited = await answer(429, '{"error":{"code":"rate_limit"}}', { 'retry-after': '30' });
    expect(limited).toBeInstanceOf(ActionError);
    expect(limited).toMatchObject({
      transient: true,
      status: 429,
      retryAfterSeconds: 30,
      code: 'rate_limit',
      message: 'stripe answered 429: {"error":{"code":"rate_limit"}}',
    });
    expect((await answer(408, '')).transient).toBe(true);
    expect((await answer(503, 'down')).message).toBe('stripe answered 503: down');
    expect(await answer(402, '{"error":{"code":"card_declined"}}')).toMatchObject({
      transient: false,
      status: 402,
      code: 'card_declined',
      retryAfterSeconds: undefined,
    });
  });

  it('keeps the first 300 characters of the answer, with the request secrets redacted', async () => {
    const error = await answer(400, `{"error":{"message":"bad key sk_live_123 ${'x'.repeat(400)}"}}`);
    expect(error.message).toContain('bad key [redacted] ');
    expect(error.message).not.toContain('sk_live_123');
    expect(error.message.length).toBe('stripe answered 400: '.length + 300);
  });
});
