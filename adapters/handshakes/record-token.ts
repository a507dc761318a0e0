import type { InboundRequest } from '../../runtime/adapter.ts';
import { fieldOf, MAX_HANDSHAKE_BYTES, type HandshakeAdapter } from '../../runtime/handshake.ts';
import type { RecordTokenHandshake } from '../../runtime/manifest/types.gen.ts';
import { keepSecret, learntSecretOptions, learntSecrets, refusal } from './learnt-secret.ts';

type Options = Omit<RecordTokenHandshake, 'type'>;

/**
 * Notion's handshake: a POST whose body carries `verification_token`, which the operator pastes back into Notion
 * and which then signs every delivery. While the operator has armed the integration, it is answered 200 and kept in KV (the operator reads it with
 * `wrangler kv key get`), never logged.
 */
export const recordTokenHandshake: HandshakeAdapter<Options> = {
  type: 'record-token',
  title: 'RecordTokenHandshake',
  description: 'A POST carrying a verification token in a JSON field: kept (KV) for the operator and as the verifier\'s secret.',
  options: {
    properties: {
      field: { type: 'string', minLength: 1, description: 'The body field carrying the token (e.g. verification_token).' },
      ...learntSecretOptions,
    },
    required: ['field', 'secret'],
  },
  example: { type: 'record-token', field: 'verification_token', secret: 'NOTION_VERIFICATION_TOKEN', secret_store: 'kv' },
  create(options) {
    const probe = (request: InboundRequest) => {
      if (request.method !== 'POST' || request.body.length > MAX_HANDSHAKE_BYTES || !new TextDecoder().decode(request.body).includes(`"${options.field.split('.').pop()}"`)) return undefined;
      try {
        const json = JSON.parse(new TextDecoder().decode(request.body)) as unknown;
        const value = fieldOf(json, options.field);
        return typeof value === 'string' && value !== '' ? value : undefined;
      } catch {
        return undefined;
      }
    };
    return {
      methods: [],
      verify: false,
      matches: (request) => probe(request) !== undefined,
      async answer(request, ctx) {
        const kept = await keepSecret(ctx, options.secret, probe(request)!);
        const refused = refusal(kept, ctx, 'verification token');
        if (refused) return refused;
        return { status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'recorded' }) };
      },
      secrets: (ctx) => learntSecrets(ctx, options.secret),
    };
  },
};
