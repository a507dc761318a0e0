import { readSecrets, type StepContext } from '../../runtime/component/context.ts';
import { OddAnswer, providerError, sendEach } from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { compileValue } from '../../runtime/language/values.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';
import { baseUrl, compileMessage, compileValueMap, messageSpec, trimSlash } from './message.ts';

interface SendgridMail {
  personalizations: { to: { email: string }[]; dynamic_template_data?: Record<string, unknown> }[];
  from: { email: string; name?: string };
  template_id?: string;
  subject?: string;
  content?: { type: string; value: string }[];
}

/** `Name <email>` or a bare address, as SendGrid's `{ email, name }`. */
function address(text: string): { email: string; name?: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(text);
  return m ? { email: m[2]!, ...(m[1] ? { name: m[1] } : {}) } : { email: text.trim() };
}

/**
 * Email through SendGrid's `POST /v3/mail/send`: a dynamic template (`template_id` + `data` as
 * dynamic_template_data) or content rendered here from a switchyard template. SendGrid has no idempotency key,
 * so the send ledger is what keeps a retry from sending twice. Logged to `email_logs` under X-Message-Id.
 */
export const sendgridAction = defineComponent({
  kind: 'action',
  name: 'sendgrid',
  title: 'SendgridAction',
  description: 'Sends email through SendGrid (dynamic template or rendered content), logging to email_logs.',
  writes: ['email_logs'],
  spec: {
    from: field.string({ minLength: 3 }),
    to: field.ref<Value>('Value'),
    template_id: field
      .string({ pattern: '^d-[0-9a-f]+$' })
      .optional()
      .describe('A SendGrid dynamic template id (`d-…`); `data` becomes its dynamic_template_data.'),
    ...messageSpec,
    api_key: field.secret().describe('Env var holding the SendGrid API key.'),
    base_url: baseUrl('https://api.sendgrid.com'),
  },
  example: {
    action: 'sendgrid',
    from: 'Acme <hello@acme.dev>',
    to: 'data.email',
    template_id: 'd-0123456789abcdef',
    data: { name: 'data.first_name' },
    api_key: 'SENDGRID_API_KEY',
  },
  create(options, ctx) {
    const base = trimSlash(options.base_url);
    const to = compileValue(options.to, { allowEnvelope: true });
    const dynamic = options.template_id !== undefined;
    const data = compileValueMap(options.data);
    const message = dynamic ? undefined : compileMessage(options, ctx, [['subject'], ['html', 'text']]);
    if (dynamic && (options.template || options.subject || options.html || options.text))
      throw new Error('with template_id, give only data');
    return {
      type: 'sendgrid',
      maxBatch: 1,
      recipient: (payload) => (payload as SendgridMail).personalizations[0]?.to[0]?.email,
      prepare(stepCtx: StepContext): SendgridMail {
        const recipient = { email: String(to(stepCtx.values)) };
        if (dynamic)
          return {
            personalizations: [{ to: [recipient], dynamic_template_data: data(stepCtx) }],
            from: address(options.from),
            template_id: options.template_id!,
          };
        const rendered = message!.render(stepCtx);
        const content = [
          ...(rendered.text !== undefined ? [{ type: 'text/plain', value: rendered.text }] : []),
          ...(rendered.html !== undefined ? [{ type: 'text/html', value: rendered.html }] : []),
        ];
        return {
          personalizations: [{ to: [recipient] }],
          from: address(options.from),
          subject: rendered.subject!,
          content,
        };
      },
      send(items, io) {
        const [key] = readSecrets(io.env, options.api_key);
        return sendEach(items, async (item) => {
          const res = await io.fetch(`${base}/v3/mail/send`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(item.payload),
          });
          if (!res.ok) throw await providerError('sendgrid', res, io.now);
          const id = res.headers.get('x-message-id');
          return id
            ? { id }
            : new OddAnswer(
                { id: item.key },
                `sendgrid answered ${res.status} without an X-Message-Id header (logged under the effect's key)`,
              );
        });
      },
      logStatements(item, result, at) {
        const mail = item.payload as SendgridMail;
        return [
          {
            sql: "INSERT INTO email_logs (id, to_email, subject, status, sent_at) VALUES (?1, ?2, ?3, 'sent', ?4) ON CONFLICT (id) DO NOTHING",
            params: [
              String((result as { id?: unknown } | null)?.id ?? item.key),
              mail.personalizations[0]?.to[0]?.email ?? null,
              mail.subject ?? mail.template_id ?? null,
              at,
            ],
          },
        ];
      },
    };
  },
});
