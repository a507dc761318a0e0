import type { InboundRequest } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { bodyField, handshakeJson, learntSecretSpec } from '../../runtime/component/handshake.ts';
import { field } from '../../runtime/component/spec.ts';

/**
 * Notion's handshake: a POST whose body carries `verification_token`, which the operator pastes back into Notion
 * and which then signs every delivery. While the operator has armed the integration, it is answered 200 and kept in D1 (the operator reads it from
 * the handshake_secrets table), never logged.
 */
export const recordTokenHandshake = defineComponent({
  kind: 'handshake',
  name: 'record-token',
  title: 'RecordTokenHandshake',
  description:
    "A POST carrying a verification token in a JSON field: kept (D1) for the operator and as the verifier's secret.",
  spec: {
    field: field.string({ minLength: 1 }).describe('The body field carrying the token (e.g. verification_token).'),
    ...learntSecretSpec,
  },
  example: {
    type: 'record-token',
    field: 'verification_token',
    secret: 'NOTION_VERIFICATION_TOKEN',
    secret_store: 'd1',
  },
  create(options) {
    const tokenAt = bodyField(options.field);
    const key = `"${options.field.split('.').pop()}"`;
    const probe = (request: InboundRequest) => {
      const json = handshakeJson(request, key);
      const value = json === undefined ? undefined : tokenAt(json);
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    return {
      methods: [],
      verify: false,
      matches: (request) => probe(request) !== undefined,
      async answer(request, ctx) {
        const refused = await ctx.learnt.keep(options.secret, probe(request)!, 'verification token');
        if (refused) return refused;
        return { status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'recorded' }) };
      },
      secrets: (ctx) => ctx.learnt.read(options.secret),
    };
  },
});
