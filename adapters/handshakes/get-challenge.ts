import { readSecrets, secretRefSchema } from '../../runtime/component/context.ts';
import { secretsEqual } from '../../runtime/lib/bytes.ts';
import type { HandshakeAdapter } from '../../runtime/component/handshake.ts';
import type { GetChallengeHandshake } from '../../runtime/manifest/types.gen.ts';

type Options = Omit<GetChallengeHandshake, 'type'>;

/**
 * A GET with the challenge in the query (Dropbox `challenge`; Meta `hub.challenge` with `hub.mode=subscribe` and
 * `hub.verify_token`), answered with the challenge as text/plain (nosniff). A verify token is compared in constant
 * time; a wrong one is answered 403, as Meta asks.
 */
export const getChallengeHandshake: HandshakeAdapter<Options> = {
  type: 'get-challenge',
  title: 'GetChallengeHandshake',
  description: 'A GET with a challenge query parameter, answered as text/plain; optionally a mode and a verify token.',
  options: {
    properties: {
      challenge_param: { type: 'string', minLength: 1, description: 'Query parameter carrying the challenge (e.g. challenge, hub.challenge).' },
      mode_param: { type: 'string', minLength: 1, description: 'Query parameter carrying the mode (e.g. hub.mode).' },
      mode: { type: 'string', minLength: 1, description: 'The mode value required (e.g. subscribe).' },
      token_param: { type: 'string', minLength: 1, description: 'Query parameter carrying the verify token (e.g. hub.verify_token).' },
      verify_token: { ...secretRefSchema, description: 'Name of the environment variable holding the verify token you chose.' },
    },
    required: ['challenge_param'],
  },
  example: { type: 'get-challenge', challenge_param: 'hub.challenge', mode_param: 'hub.mode', mode: 'subscribe', token_param: 'hub.verify_token', verify_token: 'META_VERIFY_TOKEN' },
  create(options) {
    if (Boolean(options.mode_param) !== Boolean(options.mode)) throw new Error('set `mode_param` and `mode` together');
    if (Boolean(options.token_param) !== Boolean(options.verify_token)) throw new Error('set `token_param` and `verify_token` together');
    return {
      methods: ['GET'],
      verify: false,
      matches: (request) => request.method === 'GET' && request.url.searchParams.has(options.challenge_param),
      async answer(request, ctx) {
        const query = request.url.searchParams;
        const challenge = query.get(options.challenge_param) ?? '';
        const refuse = { status: 403, contentType: 'application/json' as const, body: JSON.stringify({ error: 'forbidden', message: 'the challenge was refused' }) };
        if (options.mode_param && query.get(options.mode_param) !== options.mode) return refuse;
        if (options.token_param) {
          const [token] = readSecrets(ctx.env, options.verify_token!);
          if (!(await secretsEqual(query.get(options.token_param) ?? '', token!))) return refuse;
        }
        if (challenge === '') return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'bad_request', message: `missing ${options.challenge_param}` }) };
        return { status: 200, contentType: 'text/plain', body: challenge };
      },
    };
  },
};
