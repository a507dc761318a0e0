import { generateKeyPairSync, sign } from 'node:crypto';
import { serialize } from 'php-serialize';
import { describe, expect, it } from 'vitest';
import { paddleClassicSignedData, paddleClassicVerifier } from './paddle-classic.ts';
import { reason, request } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';

const keys = () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
};
const vendor = keys();
const other = keys();

const fields: Record<string, string> = {
  alert_name: 'subscription_created',
  alert_id: '1234567',
  subscription_id: '8',
  email: 'zoë@example.com',
  passthrough: '{"user":"Zoë ✓"}',
  event_time: '2024-01-01 10:00:00',
};

/** Signs as Paddle Classic: RSA-SHA1 over PHP serialize() of the fields sorted by key (php-serialize, independently). */
function signedForm(values: Record<string, string>, privateKey = vendor.privateKey): string {
  const sorted = Object.fromEntries(
    Object.keys(values)
      .sort()
      .map((k) => [k, values[k]]),
  );
  const signature = sign('sha1', Buffer.from(serialize(sorted), 'utf8'), privateKey).toString('base64');
  return new URLSearchParams({ ...values, p_signature: signature }).toString();
}

const verifier = build(paddleClassicVerifier, { public_key: 'K' }, undefined);
const check = (body: string, env: Record<string, string> = { K: vendor.pem }, v = verifier) =>
  reason(v.verify(request({ body, headers: {} }), env));

describe('paddle-classic verifier', () => {
  it('serializes exactly as php-serialize does, with UTF-8 byte lengths', () => {
    const pairs = Object.entries(fields);
    const sorted = Object.fromEntries([...pairs].sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(paddleClassicSignedData(pairs)).toBe(serialize(sorted));
    expect(paddleClassicSignedData([['name', 'Zoë']])).toBe('a:1:{s:4:"name";s:4:"Zoë";}');
  });

  it('accepts a correctly signed alert, in any field order', async () => {
    expect(await check(signedForm(fields))).toBe('accepted');
    const reversed = new URLSearchParams([...new URLSearchParams(signedForm(fields))].reverse()).toString();
    expect(await check(reversed)).toBe('accepted');
  });

  it('refuses another key, a changed field, an added field, and a missing or garbled signature', async () => {
    expect(await check(signedForm(fields, other.privateKey))).toBe('signature_mismatch');
    expect(await check(signedForm(fields).replace('subscription_id=8', 'subscription_id=9'))).toBe(
      'signature_mismatch',
    );
    expect(await check(`${signedForm(fields)}&extra=1`)).toBe('signature_mismatch');
    expect(await check(new URLSearchParams(fields).toString())).toBe('missing_signature');
    expect(await check(`${new URLSearchParams(fields)}&p_signature=%%%`)).toBe('malformed_signature');
    const body = signedForm(fields);
    expect(await check(body.replace(/p_signature=[^&]+/, (m) => m.slice(0, -12)))).not.toBe('accepted');
    expect(await check(`${body}&p_signature=abc`)).toBe('malformed_signature');
  });

  it('accepts either key during a key rollover, and fails closed without one', async () => {
    const rolling = build(paddleClassicVerifier, { public_key: ['OLD', 'NEW'] }, undefined);
    const env = { OLD: vendor.pem, NEW: other.pem };
    expect(await check(signedForm(fields), env, rolling)).toBe('accepted');
    expect(await check(signedForm(fields, other.privateKey), env, rolling)).toBe('accepted');
    await expect(verifier.verify(request({ body: signedForm(fields), headers: {} }), {})).rejects.toThrow(
      'secret K is not set',
    );
  });
});
