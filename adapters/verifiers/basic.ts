import { readSecrets, secretRefSchema, secretRefsSchema } from '../../runtime/component/context.ts';
import { VerificationError, type VerifierAdapter } from '../../runtime/component/verifier.ts';
import { secretsEqual } from '../../runtime/lib/bytes.ts';
import { fromBase64 } from './crypto.ts';
import type { BasicVerifier } from '../../runtime/manifest/types.gen.ts';

type BasicOptions = Omit<BasicVerifier, 'type'>;

/**
 * HTTP Basic credentials, for providers that do not sign but let the user put credentials in the webhook URL
 * (Postmark, Chargebee). User name and password are both secrets; `user:password` is hashed and compared in
 * constant time, so neither content nor length leaks.
 */
export const basicVerifier: VerifierAdapter<BasicOptions> = {
  type: 'basic',
  signsBody: false,
  title: 'BasicVerifier',
  description: 'HTTP Basic credentials (user name and password from secrets), compared in constant time.',
  options: {
    properties: {
      username: { ...secretRefSchema, description: 'Name of the environment variable holding the expected user name.' },
      password: { ...secretRefsSchema, description: 'Name(s) of environment variables holding the password; list several to rotate.' },
    },
    required: ['username', 'password'],
  },
  example: { type: 'basic', username: 'POSTMARK_WEBHOOK_USER', password: 'POSTMARK_WEBHOOK_PASSWORD' },
  async sign(_options, { secrets }) {
    return { authorization: `Basic ${btoa(`${secrets[0]}:${secrets[1]}`)}` };
  },
  create(options) {
    const passwords = typeof options.password === 'string' ? [options.password] : options.password;
    return {
      async verify(request, env) {
        const [username] = readSecrets(env, options.username);
        const expected = readSecrets(env, passwords);
        const value = request.headers.get('authorization');
        if (!value) throw new VerificationError('missing_signature');
        const match = /^Basic\s+(\S+)$/i.exec(value);
        const decoded = match ? fromBase64(match[1]!) : undefined;
        if (!decoded) throw new VerificationError('malformed_signature');
        const presented = new TextDecoder().decode(decoded);
        let matched = false;
        for (const password of expected) if (await secretsEqual(presented, `${username}:${password}`)) matched = true;
        if (!matched) throw new VerificationError('signature_mismatch');
      },
    };
  },
};
