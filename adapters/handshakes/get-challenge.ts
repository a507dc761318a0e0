import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { secretsEqual } from '../../runtime/lib/bytes.ts';

/**
 * A GET with the challenge in the query (Dropbox `challenge`; Meta `hub.challenge` with `hub.mode=subscribe` and
 * `hub.verify_token`), answered with the challenge as text/plain (nosniff). A verify token is compared in constant
 * time; a wrong one is answered 403, as Meta asks.
 */
export const getChallengeHandshake = defineComponent({
  kind: 'handshake',
  name: 'get-challenge',
  title: 'GetChallengeHandshake',
  description: 'A GET with a challenge query parameter, answered as text/plain; optionally a mode and a verify token.',
  spec: {
    challenge_param: field
      .string({ minLength: 1 })
      .describe('Query parameter carrying the challenge (e.g. challenge, hub.challenge).'),
    mode_param: field
      .string({ minLength: 1 })
      .optional()
      .describe('Query parameter carrying the mode (e.g. hub.mode).'),
    mode: field.string({ minLength: 1 }).optional().describe('The mode value required (e.g. subscribe).'),
    token_param: field
      .string({ minLength: 1 })
      .optional()
      .describe('Query parameter carrying the verify token (e.g. hub.verify_token).'),
    verify_token: field
      .secret()
      .optional()
      .describe('Name of the environment variable holding the verify token you chose.'),
  },
  example: {
    type: 'get-challenge',
    challenge_param: 'hub.challenge',
    mode_param: 'hub.mode',
    mode: 'subscribe',
    token_param: 'hub.verify_token',
    verify_token: 'META_VERIFY_TOKEN',
  },
  create(options) {
    if (Boolean(options.mode_param) !== Boolean(options.mode)) throw new Error('set `mode_param` and `mode` together');
    const { token_param: tokenParam, verify_token: verifyToken } = options;
    if (Boolean(tokenParam) !== Boolean(verifyToken)) throw new Error('set `token_param` and `verify_token` together');
    return {
      methods: ['GET'],
      verify: false,
      matches: (request) => request.method === 'GET' && request.url.searchParams.has(options.challenge_param),
      async answer(request, ctx) {
        const query = request.url.searchParams;
        const challenge = query.get(options.challenge_param) ?? '';
        const refuse = {
          status: 403,
          contentType: 'application/json' as const,
          body: JSON.stringify({ error: 'forbidden', message: 'the challenge was refused' }),
        };
        if (options.mode_param && query.get(options.mode_param) !== options.mode) return refuse;
        if (tokenParam && verifyToken) {
          const [token] = readSecrets(ctx.env, verifyToken);
          if (!(await secretsEqual(query.get(tokenParam) ?? '', token!))) return refuse;
        }
        if (challenge === '')
          return {
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ error: 'bad_request', message: `missing ${options.challenge_param}` }),
          };
        return { status: 200, contentType: 'text/plain', body: challenge };
      },
    };
  },
});
