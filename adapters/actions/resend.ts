import { readSecrets, secretRefSchema, type StepContext } from '../../runtime/adapter.ts';
import { expectJson, providerError, sendEach, stableId, type ActionAdapter, type ActionItem, type ActionOutcome } from '../../runtime/actions.ts';
import { compileValue } from '../../runtime/values.ts';
import { baseUrlSchema, compileMessage, messageOptions, trimSlash } from './message.ts';
import type { ResendAction } from '../../runtime/manifest/types.gen.ts';

type ResendOptions = Omit<ResendAction, 'limits' | 'description' | 'action'>;

interface ResendEmail {
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  reply_to?: string;
}

/** Resend allows 100 emails per batch call. */
export const RESEND_BATCH_LIMIT = 100;

/**
 * Email through Resend: `POST /emails` for one, `POST /emails/batch` (up to 100) for several, with an
 * `Idempotency-Key` so a retried call does not send twice. A batch the API refuses outright (4xx) is retried
 * email by email, so one bad address does not sink the other 99. Successes are logged to `email_logs`.
 */
export const resendAction: ActionAdapter<ResendOptions> = {
  type: 'resend',
  title: 'ResendAction',
  description: 'Sends email through Resend (single or batched), logging to email_logs.',
  options: {
    properties: {
      from: { type: 'string', minLength: 3, description: 'Sender, e.g. `Acme <hello@acme.dev>`.' },
      to: { $ref: '#/definitions/Value', description: 'Recipient address, from the event.' },
      reply_to: { type: 'string' },
      ...messageOptions,
      api_key: { ...secretRefSchema, description: 'Env var holding the Resend API key.' },
      base_url: baseUrlSchema,
    },
    required: ['from', 'to', 'api_key'],
  },
  example: { action: 'resend', from: 'Acme <hello@acme.dev>', to: 'data.email', template: 'welcome', data: { name: 'data.first_name' }, api_key: 'RESEND_API_KEY' },
  create(options, ctx) {
    const base = trimSlash(options.base_url ?? 'https://api.resend.com');
    const message = compileMessage(options, ctx, [['subject'], ['html', 'text']]);
    const to = compileValue(options.to as never, { allowEnvelope: true });
    return {
      type: 'resend',
      maxBatch: RESEND_BATCH_LIMIT,
      prepare(stepCtx: StepContext): ResendEmail {
        const rendered = message.render(stepCtx);
        return {
          from: options.from,
          to: [String(to(stepCtx.values))],
          subject: rendered.subject!,
          ...(rendered.html !== undefined ? { html: rendered.html } : {}),
          ...(rendered.text !== undefined ? { text: rendered.text } : {}),
          ...(options.reply_to ? { reply_to: options.reply_to } : {}),
        };
      },
      async send(items, io) {
        const [key] = readSecrets(io.env, options.api_key);
        const post = (path: string, body: unknown, idempotencyKey: string) =>
          io.fetch(`${base}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
            body: JSON.stringify(body),
          });
        const one = (item: ActionItem) => post('/emails', item.payload, item.key).then((res) => expectJson<{ id: string }>('resend', res, io.now));
        // A batch call has one Idempotency-Key for all its emails, so an email tried before goes alone, under its own.
        if (items.length === 1 || items.some((i) => (i.attempt ?? 1) > 1)) return sendEach(items, one);
        let res: Response;
        try {
          res = await post('/emails/batch', items.map((i) => i.payload), await stableId(items.map((i) => i.key).join('\n')));
        } catch (error) {
          return sendEach(items, () => Promise.reject(error));
        }
        if (res.ok) {
          const { data } = (await res.json()) as { data: { id: string }[] };
          return items.map((_, i): ActionOutcome => ({ ok: true, result: { id: data[i]?.id } }));
        }
        const error = await providerError('resend', res, io.now);
        if (error.transient) return items.map(() => ({ ok: false, error }));
        return sendEach(items, one);
      },
      logStatements(item, result, at) {
        const email = item.payload as ResendEmail;
        return [
          {
            sql: "INSERT INTO email_logs (id, to_email, subject, status, sent_at) VALUES (?1, ?2, ?3, 'sent', ?4) ON CONFLICT (id) DO NOTHING",
            params: [(result as { id: string }).id, email.to[0], email.subject, at],
          },
        ];
      },
    };
  },
};
