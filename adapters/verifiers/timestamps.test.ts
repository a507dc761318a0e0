/**
 * Every verifier that checks a timestamp says so through `timestampTolerance`: the core caps `occurred_at` with it,
 * and `validate` lists integrations without one as replayable forever. A verifier that forgot it would be listed
 * wrongly and its events ordered with the default skew.
 */
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { optionsOf } from '../../runtime/component/define.ts';

describe('verifiers and their signed timestamp', () => {
  it('every verifier with a tolerance option declares timestampTolerance, and it is the tolerance', () => {
    for (const [type, adapter] of defaultRegistry.verifiers) {
      if (!('tolerance' in adapter.spec)) continue;
      expect(adapter.timestampTolerance, type).toBeTypeOf('function');
    }
    const stripe = defaultRegistry.verifiers.get('stripe')!;
    expect(stripe.timestampTolerance!(optionsOf(stripe, { secret: 'S', tolerance: '2m' }))).toBe(120_000);
  });

  it('hmac: a tolerance only when the signed template includes the timestamp', () => {
    const hmac = defaultRegistry.verifiers.get('hmac')!;
    expect(
      hmac.timestampTolerance!(optionsOf(hmac, { secret: 'S', header: 'X-Hub-Signature-256', prefix: 'sha256=' })),
    ).toBeUndefined();
    expect(
      hmac.timestampTolerance!(
        optionsOf(hmac, { secret: 'S', header: 'X-Sig', timestamp_header: 'X-Ts', signed: '{timestamp}.{body}' }),
      ),
    ).toBe(5 * 60_000);
  });

  it('hmac: a timestamp in a body field the signature covers has a tolerance (Linear signs the body, Mailgun the field)', () => {
    const hmac = defaultRegistry.verifiers.get('hmac')!;
    const linear = {
      secret: 'S',
      header: 'Linear-Signature',
      timestamp_field: 'webhookTimestamp',
      timestamp_format: 'unix_ms',
      tolerance: '1m',
    };
    expect(hmac.timestampTolerance!(optionsOf(hmac, linear))).toBe(60_000);
    const mailgun = {
      secret: 'S',
      signature_field: 'signature.signature',
      signed: '{field.signature.timestamp}{field.signature.token}',
      timestamp_field: 'signature.timestamp',
    };
    expect(hmac.timestampTolerance!(optionsOf(hmac, mailgun))).toBe(5 * 60_000);
    // A field the signature does not cover proves no age.
    expect(hmac.timestampTolerance!(optionsOf(hmac, { ...mailgun, timestamp_field: 'sent_at' }))).toBeUndefined();
  });
});
