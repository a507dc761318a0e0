import { defineComponent } from '../../runtime/component/define.ts';
import { learntSecretSpec } from '../../runtime/component/handshake.ts';
import { field } from '../../runtime/component/spec.ts';

/**
 * Asana's handshake: the first POST carries `X-Hook-Secret`; while the operator has armed the integration it is
 * answered 200 echoing the header, and the value is kept (D1) as the secret later deliveries are signed with.
 */
export const echoHeaderHandshake = defineComponent({
  kind: 'handshake',
  name: 'echo-header',
  title: 'EchoHeaderHandshake',
  description: 'A POST carrying a secret in a header: echoed back, and kept as the secret the verifier uses.',
  spec: {
    header: field.string({ minLength: 1 }).describe('The header carrying the secret (e.g. X-Hook-Secret).'),
    ...learntSecretSpec,
  },
  example: { type: 'echo-header', header: 'X-Hook-Secret', secret: 'ASANA_WEBHOOK_SECRET', secret_store: 'd1' },
  create(options) {
    const header = options.header.toLowerCase();
    return {
      methods: [],
      verify: false,
      matches: (request) => request.method === 'POST' && request.headers.has(header),
      async answer(request, ctx) {
        const value = request.headers.get(header)!;
        const refused = await ctx.learnt.keep(options.secret, value, 'hook secret');
        if (refused) return refused;
        return { status: 200, contentType: 'text/plain', body: '', headers: { [options.header]: value } };
      },
      secrets: (ctx) => ctx.learnt.read(options.secret),
    };
  },
});
