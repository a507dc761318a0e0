import { describe, expect, it } from 'vitest';
import { tokenVerifier } from './token.ts';
import { reason, request } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';

const check = (options: Record<string, unknown>, headers: Record<string, string>, env: Record<string, string>) =>
  reason(build(tokenVerifier, options, undefined).verify(request({ body: '{}', headers }), env));

describe('token verifier', () => {
  it('accepts the shared token in a header, after a prefix', async () => {
    const options = { secret: 'T', header: 'Authorization', prefix: 'Bearer ' };
    expect(await check(options, { authorization: 'Bearer s3cret-token' }, { T: 's3cret-token' })).toBe('accepted');
    expect(await check(options, { authorization: 'Bearer s3cret-tokeN' }, { T: 's3cret-token' })).toBe(
      'signature_mismatch',
    );
    expect(await check(options, { authorization: 'Bearer s3cret' }, { T: 's3cret-token' })).toBe('signature_mismatch');
    expect(await check(options, { authorization: 's3cret-token' }, { T: 's3cret-token' })).toBe('malformed_signature');
    expect(await check(options, {}, { T: 's3cret-token' })).toBe('missing_signature');
  });

  it('accepts HTTP Basic with the expected user, and either secret while rotating', async () => {
    const options = { secret: ['OLD', 'NEW'], scheme: 'basic', username: 'auth0' };
    const env = { OLD: 'old-pass', NEW: 'new-pass' };
    const basic = (u: string, p: string) => ({ authorization: `Basic ${btoa(`${u}:${p}`)}` });
    expect(await check(options, basic('auth0', 'old-pass'), env)).toBe('accepted');
    expect(await check(options, basic('auth0', 'new-pass'), env)).toBe('accepted');
    expect(await check(options, basic('mallory', 'new-pass'), env)).toBe('signature_mismatch');
    expect(await check(options, { authorization: 'Basic %%%' }, env)).toBe('malformed_signature');
  });

  it('refuses options that mix the two schemes, at load time', () => {
    expect(() => build(tokenVerifier, { secret: 'T', username: 'x' }, undefined)).toThrow('scheme basic only');
    expect(() => build(tokenVerifier, { secret: 'T', scheme: 'basic', prefix: 'Bearer ' }, undefined)).toThrow(
      'scheme header only',
    );
  });
});
