import { readSecretList, readSecrets, type InboundRequest } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import { secretsEqual, utf8 } from '../../runtime/lib/bytes.ts';
import { fromBase64 } from './crypto.ts';

/** The `Authorization` header a Basic sender presents. */
export const basicAuthorization = (username: string, password: string): Record<string, string> => ({
  authorization: `Basic ${btoa(`${username}:${password}`)}`,
});

/**
 * Checks HTTP Basic credentials: `user:password` is hashed and compared in constant time against each accepted
 * password, so neither content nor length leaks. The one implementation behind `basic` and token's `scheme: basic`.
 */
export async function checkBasic(
  request: InboundRequest,
  username: string,
  passwords: readonly string[],
): Promise<void> {
  const value = request.headers.get('authorization');
  if (!value) throw new VerificationError('missing_signature');
  const match = /^Basic\s+(\S+)$/i.exec(value);
  const decoded = match ? fromBase64(match[1]!) : undefined;
  if (!decoded) throw new VerificationError('malformed_signature');
  const presented = utf8.decode(decoded);
  let matched = false;
  for (const password of passwords) if (await secretsEqual(presented, `${username}:${password}`)) matched = true;
  if (!matched) throw new VerificationError('signature_mismatch');
}

/**
 * HTTP Basic credentials, for providers that do not sign but let the user put credentials in the webhook URL
 * (Postmark, Chargebee). User name and password are both secrets.
 */
export const basicVerifier = defineComponent({
  kind: 'verifier',
  name: 'basic',
  title: 'BasicVerifier',
  description: 'HTTP Basic credentials (user name and password from secrets), compared in constant time.',
  spec: {
    username: field.secret().describe('Name of the environment variable holding the expected user name.'),
    password: field
      .secrets()
      .describe('Name(s) of environment variables holding the password; list several to rotate.'),
  },
  example: { type: 'basic', username: 'POSTMARK_WEBHOOK_USER', password: 'POSTMARK_WEBHOOK_PASSWORD' },
  authenticates: () => 'sender',
  async sign(_options, { secrets }) {
    return basicAuthorization(secrets[0]!, secrets[1]!);
  },
  create(options) {
    return {
      async verify(request, env) {
        const [username] = readSecrets(env, options.username);
        await checkBasic(request, username!, readSecretList(env, options.password).values);
      },
    };
  },
});
