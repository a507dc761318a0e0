import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacVerifier } from './hmac.ts';
import { githubSignature } from '../../test/support/sign.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';

const body = JSON.stringify({
  action: 'opened',
  issue: { number: 1347, title: 'Found a bug' },
  repository: { full_name: 'octo/hello' },
});

verifierSuite('hmac (GitHub, configured in YAML)', {
  adapter: hmacVerifier,
  options: {
    secret: 'TEST_SECRET',
    header: 'X-Hub-Signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  },
  secret: "It's a Secret to Everybody",
  otherSecret: 'another secret',
  body,
  signatureHeader: 'x-hub-signature-256',
  sign: async (payload, secret) => ({
    body: payload,
    headers: { 'x-hub-signature-256': await octokitSign(secret, payload) },
  }),
  unknownVersions: (v) => v.replace('sha256=', 'sha1='),
  truncate: (v) => v.slice(0, -2),
});

verifierSuite('hmac (timestamped template, base64, sha512)', {
  adapter: hmacVerifier,
  options: {
    secret: 'TEST_SECRET',
    header: 'X-Signature',
    algorithm: 'sha512',
    encoding: 'base64',
    signed: '{timestamp}.{header.x-request-id}.{body}',
    timestamp_header: 'X-Timestamp',
    tolerance: '2m',
    separator: ' ',
  },
  secret: 'home-grown-secret-1',
  otherSecret: 'home-grown-secret-2',
  body,
  signatureHeader: 'x-signature',
  tolerance: 120,
  async sign(payload, secret, ts) {
    const signature = createHmac('sha512', secret).update(`${ts}.req-42.${payload}`).digest('base64');
    return {
      body: payload,
      headers: { 'x-signature': signature, 'x-timestamp': String(ts), 'x-request-id': 'req-42' },
    };
  },
  truncate: (v) => v.slice(0, -6),
  withDecoy: (v) => `AAAA ${v}`,
});

describe('generic hmac', () => {
  it("verifies GitHub's documented example and agrees with @octokit/webhooks-methods", async () => {
    // GitHub docs: secret "It's a Secret to Everybody", payload "Hello, World!".
    const expected = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(await octokitSign("It's a Secret to Everybody", 'Hello, World!')).toBe(expected);
    expect(await githubSignature("It's a Secret to Everybody", 'Hello, World!')).toBe(expected);
    const verifier = build(hmacVerifier, { secret: 'S', header: 'X-Hub-Signature-256', prefix: 'sha256=' }, undefined);
    expect(
      await reason(
        verifier.verify(request({ body: 'Hello, World!', headers: { 'x-hub-signature-256': expected } }), {
          S: "It's a Secret to Everybody",
        }),
      ),
    ).toBe('accepted');
    expect(await octokitVerify('s3cret', body, await githubSignature('s3cret', body))).toBe(true);
  });

  it('serves a Shopify-style base64 header with no provider code', async () => {
    const verifier = build(
      hmacVerifier,
      { secret: 'S', header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' },
      undefined,
    );
    const digest = createHmac('sha256', 'shpss_secret').update(body).digest('base64');
    expect(
      await reason(
        verifier.verify(request({ body, headers: { 'X-Shopify-Hmac-Sha256': digest } }), { S: 'shpss_secret' }),
      ),
    ).toBe('accepted');
    expect(
      await reason(
        verifier.verify(request({ body: `${body}\n`, headers: { 'X-Shopify-Hmac-Sha256': digest } }), {
          S: 'shpss_secret',
        }),
      ),
    ).toBe('signature_mismatch');
  });

  it('refuses options that would prove nothing, at load time', () => {
    expect(() =>
      build(hmacVerifier, { secret: 'S', header: 'X', signed: '{timestamp}', timestamp_header: 'T' }, undefined),
    ).toThrow('must include {body}');
    expect(() => build(hmacVerifier, { secret: 'S', header: 'X', signed: '{timestamp}.{body}' }, undefined)).toThrow(
      'timestamp_header',
    );
    expect(() => build(hmacVerifier, { secret: 'S', header: 'X', signed: '{nonce}.{body}' }, undefined)).toThrow(
      'unknown placeholder {nonce}',
    );
  });
});
