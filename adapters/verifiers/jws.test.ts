import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jwsVerifier } from './jws.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

const body = JSON.stringify({ id: 'dep_1', site_id: 'site_1', state: 'ready' });
const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** A JWS built by hand with node:crypto, as Netlify sends it: HS256, iss netlify, sha256 of the body. */
function netlifyToken(secret: string, payload: string, claims: Record<string, unknown> = {}, alg = 'HS256'): string {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const claimSet = b64url(
    JSON.stringify({ iss: 'netlify', sha256: createHash('sha256').update(payload).digest('hex'), ...claims }),
  );
  return `${header}.${claimSet}.${createHmac('sha256', secret).update(`${header}.${claimSet}`).digest('base64url')}`;
}

const options = { secret: 'TEST_SECRET', header: 'X-Webhook-Signature', body_hash_claim: 'sha256', issuer: 'netlify' };

verifierSuite('jws (Netlify style, signed by hand)', {
  adapter: jwsVerifier,
  options,
  secret: 'netlify-secret-1',
  otherSecret: 'netlify-secret-2',
  body,
  signatureHeader: 'x-webhook-signature',
  async sign(payload, secret) {
    return { body: payload, headers: { 'x-webhook-signature': netlifyToken(secret, payload) } };
  },
  truncate: (v) => v.slice(0, -2),
});

describe('jws specifics', () => {
  const verifier = build(jwsVerifier, { ...options, secret: 'S' }, undefined);
  const check = (token: string, payload = body) =>
    reason(verifier.verify(request({ body: payload, headers: { 'x-webhook-signature': token } }), { S: 'k' }));

  it('refuses a valid token for another body, another issuer, or an algorithm not allowed', async () => {
    expect(await check(netlifyToken('k', body), `${body} `)).toBe('body_hash_mismatch');
    expect(await check(netlifyToken('k', body, { iss: 'someone-else' }))).toBe('malformed_signature');
    expect(await check(netlifyToken('k', body, {}, 'none'))).not.toBe('accepted');
    expect(await check(netlifyToken('k', body, { sha256: undefined }))).toBe('body_hash_mismatch');
  });

  it('signs a token our verifier and the hand-built check agree on', async () => {
    const headers = (
      await signRequest(
        jwsVerifier,
        { ...options, secret: 'S' },
        { url: 'https://x.test/', body, now: Date.now(), secrets: ['k'] },
      )
    ).headers;
    expect(await check(headers['x-webhook-signature']!)).toBe('accepted');
  });
});
