import { describe, expect, it } from 'vitest';
import { basicVerifier } from './basic.ts';
import { reason, request } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

describe('basic verifier', () => {
  const verifier = build(basicVerifier, { username: 'U', password: ['P_OLD', 'P_NEW'] }, undefined);
  const env = { U: 'postmark', P_OLD: 'old-pass', P_NEW: 'new-pass' };
  const auth = (text: string) => ({ authorization: `Basic ${Buffer.from(text).toString('base64')}` });
  const check = (headers: Record<string, string>) => reason(verifier.verify(request({ body: '{}', headers }), env));

  it('accepts the credentials, with either password while rotating', async () => {
    expect(await check(auth('postmark:old-pass'))).toBe('accepted');
    expect(await check(auth('postmark:new-pass'))).toBe('accepted');
    expect(await check({ authorization: `basic ${Buffer.from('postmark:new-pass').toString('base64')}` })).toBe(
      'accepted',
    );
  });

  it('refuses a wrong user, a wrong password, a missing or malformed header', async () => {
    expect(await check(auth('other:old-pass'))).toBe('signature_mismatch');
    expect(await check(auth('postmark:nope'))).toBe('signature_mismatch');
    expect(await check(auth('postmark:old-pass-and-more'))).toBe('signature_mismatch');
    expect(await check({})).toBe('missing_signature');
    expect(await check({ authorization: 'Bearer x' })).toBe('malformed_signature');
    expect(await check({ authorization: 'Basic !!!' })).toBe('malformed_signature');
  });

  it('signs what it accepts', async () => {
    const headers = (
      await signRequest(
        basicVerifier,
        { username: 'U', password: 'P_OLD' },
        { url: 'https://x.test/', body: '{}', now: 0, secrets: ['postmark', 'old-pass'] },
      )
    ).headers;
    expect(await check(headers)).toBe('accepted');
  });
});
