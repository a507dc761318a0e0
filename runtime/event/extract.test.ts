import { describe, expect, it } from 'vitest';
import { MAX_INLINE_MESSAGE_BYTES, type Envelope } from '../lib/envelope.ts';
import { messageFor, utf8Length } from './extract.ts';

const envelope = (payload: unknown): Envelope => ({
  integration: 'stripe',
  id: 'evt_1',
  type: 't',
  occurred_at: null,
  received_at: '2026-01-01T00:00:00.000Z',
  payload,
  seq: 7,
});
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

describe('messageFor', () => {
  it('inlines a small envelope as it is', () => {
    const e = envelope({ a: 1 });
    expect(messageFor(e, '{"a":1}')).toBe(e);
  });

  it('refers to the event row for a body longer than the limit, without serializing it', () => {
    const text = JSON.stringify({ padding: 'p'.repeat(MAX_INLINE_MESSAGE_BYTES) });
    const payload = {
      toJSON() {
        throw new Error('a large body must not be serialized to measure it');
      },
    };
    const message = messageFor(envelope(payload), text);
    expect(message).toMatchObject({ payload: null, payload_ref: 'events:stripe:evt_1', seq: 7 });
    expect(bytes(message)).toBeLessThan(1024);
  });

  it('refuses to inline an envelope that would exceed the limit, measured in UTF-8 bytes', () => {
    // Fewer UTF-16 units than the limit, but 3 bytes each: the envelope is over the limit once encoded.
    const payload = { name: '€'.repeat(MAX_INLINE_MESSAGE_BYTES / 2) };
    const text = JSON.stringify(payload);
    expect(text.length).toBeLessThanOrEqual(MAX_INLINE_MESSAGE_BYTES);
    expect(bytes(envelope(payload))).toBeGreaterThan(MAX_INLINE_MESSAGE_BYTES);
    expect(messageFor(envelope(payload), text)).toMatchObject({ payload: null, payload_ref: 'events:stripe:evt_1' });
  });

  it('inlines an envelope just within the limit', () => {
    const payload = { padding: 'p'.repeat(MAX_INLINE_MESSAGE_BYTES - 1024) };
    const e = envelope(payload);
    expect(bytes(e)).toBeLessThanOrEqual(MAX_INLINE_MESSAGE_BYTES);
    expect(messageFor(e, JSON.stringify(payload))).toBe(e);
  });
});

describe('utf8Length', () => {
  it('counts as TextEncoder encodes', () => {
    for (const text of ['', 'ascii', 'é', '€uro', '😀 pair', 'lone \ud800 high', 'lone \udc00 low', 'end \ud800']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).byteLength);
    }
  });
});
