import { readSecrets, secretRefsSchema } from '../../runtime/component/context.ts';
import { VerificationError, type VerifierAdapter } from '../../runtime/component/verifier.ts';
import { secretsEqual } from '../../runtime/lib/bytes.ts';
import { fromBase64 } from './crypto.ts';
import type { TokenVerifier } from '../../runtime/manifest/types.gen.ts';

type TokenOptions = Omit<TokenVerifier, 'type'>;


/**
 * A shared secret sent as-is, in a header (optionally after a prefix such as `Bearer `) or as the HTTP Basic
 * password. For senders that do not sign: Supabase Database Webhooks, Auth0 log streams. Values are hashed
 * before a constant-time compare, so neither content nor length leaks.
 */
export const tokenVerifier: VerifierAdapter<TokenOptions> = {
  type: 'token',
  signsBody: false,
  title: 'TokenVerifier',
  description: 'Shared-secret token in a header, or HTTP Basic auth.',
  options: {
    properties: {
      secret: secretRefsSchema,
      scheme: { enum: ['header', 'basic'], description: 'Where the token is (default header).' },
      header: { type: 'string', minLength: 1, description: 'Header name for scheme `header` (default Authorization).' },
      prefix: { type: 'string', description: 'Text before the token, e.g. `Bearer `.' },
      username: { type: 'string', description: 'Expected Basic user name for scheme `basic`.' },
    },
    required: ['secret'],
  },
  example: { type: 'token', secret: 'SUPABASE_DB_WEBHOOK_TOKEN', scheme: 'header', header: 'Authorization', prefix: 'Bearer ' },
  async sign(options, { secrets }) {
    if (options.scheme === 'basic') return { authorization: `Basic ${btoa(`${options.username ?? ''}:${secrets[0]}`)}` };
    return { [(options.header ?? 'authorization').toLowerCase()]: `${options.prefix ?? ''}${secrets[0]}` };
  },
  create(options) {
    const basic = options.scheme === 'basic';
    if (!basic && options.username !== undefined) throw new Error('`username` applies to scheme basic only');
    if (basic && (options.header !== undefined || options.prefix !== undefined)) throw new Error('`header` and `prefix` apply to scheme header only');
    const header = basic ? 'authorization' : (options.header ?? 'authorization').toLowerCase();
    const prefix = basic ? 'Basic ' : (options.prefix ?? '');
    return {
      async verify(request, env) {
        const secrets = readSecrets(env, options.secret);
        const value = request.headers.get(header);
        if (!value) throw new VerificationError('missing_signature');
        if (!value.startsWith(prefix)) throw new VerificationError('malformed_signature');
        let presented = value.slice(prefix.length);
        if (basic) {
          const decoded = fromBase64(presented);
          if (!decoded) throw new VerificationError('malformed_signature');
          presented = new TextDecoder().decode(decoded);
        }
        let matched = false;
        for (const secret of secrets) if (await secretsEqual(presented, basic ? `${options.username ?? ''}:${secret}` : secret)) matched = true;
        if (!matched) throw new VerificationError('signature_mismatch');
      },
    };
  },
};
