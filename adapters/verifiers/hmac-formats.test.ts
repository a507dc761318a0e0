/**
 * The generic hmac scheme's catalog options, each checked against an independent signer (node:crypto): keyed and
 * positional headers, base64url, ISO and millisecond timestamps, {method}/{path}/{url} templates, secret prefixes and
 * signatures carried in the JSON body.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacVerifier } from './hmac.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build, optionsOf } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

const body = JSON.stringify({ id: 'evt_1', type: 'thing.happened', data: { n: 1 } });
const hmac = (algo: string, key: string | Buffer, text: string) => createHmac(algo, key).update(text);

verifierSuite('hmac keyed (t=..,v1=..)', {
  adapter: hmacVerifier,
  options: {
    secret: 'TEST_SECRET',
    header: 'X-Sig',
    signature_format: 'keyed',
    signature_key: 'v1',
    timestamp_key: 't',
    signed: '{timestamp}.{body}',
  },
  secret: 'keyed-secret-1',
  otherSecret: 'keyed-secret-2',
  body,
  signatureHeader: 'x-sig',
  tolerance: 300,
  async sign(payload, secret, ts) {
    return {
      body: payload,
      headers: { 'x-sig': `t=${ts},v1=${hmac('sha256', secret, `${ts}.${payload}`).digest('hex')}` },
    };
  },
  unknownVersions: (v) => v.replace('v1=', 'v0='),
  truncate: (v) => v.slice(0, -2),
  withDecoy: (v) => v.replace(',v1=', ',v1=00ff,v1='),
});

verifierSuite('hmac positional (ms timestamp, Recurly style)', {
  adapter: hmacVerifier,
  options: {
    secret: 'TEST_SECRET',
    header: 'Recurly-Signature',
    signature_format: 'positional',
    timestamp_format: 'unix_ms',
    signed: '{timestamp}.{body}',
  },
  secret: 'positional-1',
  otherSecret: 'positional-2',
  body,
  signatureHeader: 'recurly-signature',
  tolerance: 300,
  async sign(payload, secret, ts) {
    const ms = ts * 1000;
    return {
      body: payload,
      headers: { 'recurly-signature': `${ms},${hmac('sha256', secret, `${ms}.${payload}`).digest('hex')}` },
    };
  },
  truncate: (v) => v.slice(0, -2),
  withDecoy: (v) => v.replace(',', ',00ff,'),
});

verifierSuite('hmac base64url, ISO timestamp, method and path', {
  adapter: hmacVerifier,
  options: {
    secret: 'TEST_SECRET',
    header: 'X-Signature',
    encoding: 'base64url',
    algorithm: 'sha512',
    timestamp_header: 'X-Date',
    timestamp_format: 'iso8601',
    signed: '{method}\\n{path}\\n{timestamp}\\n{body}',
    secret_prefix: 'sk_',
    secret_encoding: 'base64',
  },
  secret: `sk_${Buffer.from('a key of thirty-two bytes, ok!!!').toString('base64')}`,
  otherSecret: `sk_${Buffer.from('another key of thirty-two bytes!').toString('base64')}`,
  body,
  url: 'https://hooks.example.com/webhooks/x?tenant=7',
  signatureHeader: 'x-signature',
  tolerance: 300,
  async sign(payload, secret, ts) {
    const iso = new Date(ts * 1000).toISOString();
    const key = Buffer.from(secret.slice(3), 'base64');
    return {
      body: payload,
      headers: {
        'x-signature': hmac('sha512', key, `POST\n/webhooks/x?tenant=7\n${iso}\n${payload}`).digest('base64url'),
        'x-date': iso,
      },
    };
  },
  truncate: (v) => v.slice(0, -3),
});

describe('hmac with the signature in the JSON body (Mailgun style)', () => {
  const options = {
    secret: 'S',
    signature_field: 'signature.signature',
    timestamp_field: 'signature.timestamp',
    signed: '{field.signature.timestamp}{field.signature.token}',
  };
  const verifier = build(hmacVerifier, options, undefined);
  const now = 1_750_000_000;
  const delivery = (ts: number, token: string, key = 'mg-key') => {
    const signature = { timestamp: String(ts), token, signature: hmac('sha256', key, `${ts}${token}`).digest('hex') };
    return JSON.stringify({ signature, 'event-data': { id: 'ev1', event: 'delivered' } });
  };
  const check = (text: string, at = now) =>
    reason(verifier.verify(request({ body: text, headers: {} }, at), { S: 'mg-key' }));

  it('accepts a body signed over its own fields, and refuses a changed token, a wrong key or a stale timestamp', async () => {
    expect(await check(delivery(now, 'tok123'))).toBe('accepted');
    expect(await check(delivery(now, 'tok123').replace('tok123', 'tok124'))).toBe('signature_mismatch');
    expect(await check(delivery(now, 'tok123', 'other'))).toBe('signature_mismatch');
    expect(await check(delivery(now - 301, 'tok123'))).toBe('timestamp_too_old');
    expect(await check('not json')).toBe('malformed_body');
    expect(await check(JSON.stringify({ 'event-data': {} }))).toBe('missing_signature');
  });

  it('signs by writing the timestamp and signature into the body', async () => {
    const signed = await signRequest(hmacVerifier, options, {
      url: 'https://x.test/',
      body: JSON.stringify({ signature: { token: 'abc' }, 'event-data': {} }),
      now: now * 1000,
      secrets: ['mg-key'],
    });
    const parsed = JSON.parse(signed.body) as { signature: { timestamp: string; signature: string } };
    expect(parsed.signature.timestamp).toBe(String(now));
    expect(parsed.signature.signature).toBe(hmac('sha256', 'mg-key', `${now}abc`).digest('hex'));
    expect(await check(signed.body)).toBe('accepted');
    await expect(
      hmacVerifier.sign!(optionsOf(hmacVerifier, options), { url: 'https://x.test/', body: '{}', now, secrets: ['k'] }),
    ).rejects.toThrow('signBody');
  });

  it('refuses options that contradict each other, at load time', () => {
    expect(() => build(hmacVerifier, { secret: 'S' }, undefined)).toThrow('exactly one of `header`');
    expect(() => build(hmacVerifier, { secret: 'S', header: 'X', signature_field: 'sig' }, undefined)).toThrow(
      'exactly one of `header`',
    );
    expect(() => build(hmacVerifier, { secret: 'S', header: 'X', signature_format: 'keyed' }, undefined)).toThrow(
      'signature_key',
    );
    expect(() => build(hmacVerifier, { secret: 'S', header: 'X', signature_key: 'v1' }, undefined)).toThrow(
      'keyed only',
    );
    expect(() =>
      build(
        hmacVerifier,
        {
          secret: 'S',
          header: 'X',
          signature_format: 'keyed',
          signature_key: 'v1',
          timestamp_key: 't',
          timestamp_header: 'X-T',
        },
        undefined,
      ),
    ).toThrow('one place');
    expect(() => build(hmacVerifier, { secret: 'S', header: 'X', signed: '{field.a}' }, undefined)).toThrow(
      'must include {body}',
    );
  });

  it('reads body fields by path only: an @envelope field (there is no envelope yet) or a malformed path is refused, in the schema and at load', () => {
    expect(() => build(hmacVerifier, { ...options, signature_field: '@id' }, undefined)).toThrow(
      'names an envelope field',
    );
    expect(() => build(hmacVerifier, { ...options, timestamp_field: '@occurred_at' }, undefined)).toThrow(
      'names an envelope field',
    );
    expect(() =>
      build(hmacVerifier, { ...options, signed: '{field.@type}{field.signature.token}' }, undefined),
    ).toThrow('names an envelope field');
    expect(() => build(hmacVerifier, { ...options, signature_field: 'sig:v1' }, undefined)).toThrow('malformed path');
    const pattern = new RegExp(hmacVerifier.spec.signature_field.schema.pattern as string);
    expect(['signature.signature', 'data[0].sig'].every((p) => pattern.test(p))).toBe(true);
    expect(['@id', 'sig:v1', 'a..b'].some((p) => pattern.test(p))).toBe(false);
  });
});

describe('hmac over the body with its timestamp in a body field (Linear style)', () => {
  const options = {
    secret: 'S',
    header: 'Linear-Signature',
    timestamp_field: 'webhookTimestamp',
    timestamp_format: 'unix_ms' as const,
  };
  const verifier = build(hmacVerifier, options, undefined);
  const now = 1_750_000_000_000;

  it('signs the body as sent, after writing the timestamp into it, whatever time the sample carried', async () => {
    const sample = JSON.stringify({ action: 'create', type: 'Issue', webhookTimestamp: 1_600_000_000_000 });
    const signed = await signRequest(hmacVerifier, options, {
      url: 'https://x.test/',
      body: sample,
      now,
      secrets: ['lin-key'],
    });
    expect(JSON.parse(signed.body).webhookTimestamp).toBe(now);
    expect(signed.headers['linear-signature']).toBe(hmac('sha256', 'lin-key', signed.body).digest('hex'));
    expect(
      await reason(
        verifier.verify(request({ body: signed.body, headers: signed.headers }, now / 1000), { S: 'lin-key' }),
      ),
    ).toBe('accepted');
  });
});
