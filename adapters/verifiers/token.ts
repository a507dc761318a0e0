import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import { secretsEqual } from '../../runtime/lib/bytes.ts';
import { basicAuthorization, checkBasic } from './basic.ts';

/**
 * A shared secret sent as-is, in a header (optionally after a prefix such as `Bearer `) or as the HTTP Basic
 * password (checked by the basic verifier's own check). For senders that do not sign: Supabase Database Webhooks,
 * Auth0 log streams. Values are hashed before a constant-time compare, so neither content nor length leaks.
 */
export const tokenVerifier = defineComponent({
  kind: 'verifier',
  name: 'token',
  title: 'TokenVerifier',
  description: 'Shared-secret token in a header, or HTTP Basic auth.',
  spec: {
    secret: field.secrets(),
    scheme: field.enum(['header', 'basic']).default('header').describe('Where the token is.'),
    header: field
      .string({ minLength: 1 })
      .optional()
      .describe('Header name for scheme `header` (default Authorization).'),
    prefix: field.string().optional().describe('Text before the token, e.g. `Bearer `.'),
    username: field.string().optional().describe('Expected Basic user name for scheme `basic`.'),
  },
  example: {
    type: 'token',
    secret: 'SUPABASE_DB_WEBHOOK_TOKEN',
    scheme: 'header',
    header: 'Authorization',
    prefix: 'Bearer ',
  },
  authenticates: () => 'sender',
  async sign(options, { secrets }) {
    if (options.scheme === 'basic') return basicAuthorization(options.username ?? '', secrets[0]!);
    return { [(options.header ?? 'authorization').toLowerCase()]: `${options.prefix ?? ''}${secrets[0]}` };
  },
  create(options) {
    if (options.scheme === 'basic') {
      if (options.header !== undefined || options.prefix !== undefined)
        throw new Error('`header` and `prefix` apply to scheme header only');
      const username = options.username ?? '';
      return {
        verify: async (request, env) => checkBasic(request, username, readSecretList(env, options.secret).values),
      };
    }
    if (options.username !== undefined) throw new Error('`username` applies to scheme basic only');
    const header = (options.header ?? 'authorization').toLowerCase();
    const prefix = options.prefix ?? '';
    return {
      async verify(request, env) {
        const secrets = readSecretList(env, options.secret).values;
        const value = request.headers.get(header);
        if (!value) throw new VerificationError('missing_signature');
        if (!value.startsWith(prefix)) throw new VerificationError('malformed_signature');
        const presented = value.slice(prefix.length);
        let matched = false;
        for (const secret of secrets) if (await secretsEqual(presented, secret)) matched = true;
        if (!matched) throw new VerificationError('signature_mismatch');
      },
    };
  },
});
