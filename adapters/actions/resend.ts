import { readSecrets, type StepContext } from '../../runtime/component/context.ts';
import { ActionError, expectJson, providerError, sendEach, stableId, type ActionItem, type ActionOutcome } from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { compileValue, valueSchema, type ValueFn } from '../../runtime/manifest/values.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';
import { baseUrl, compileMessage, messageSpec, trimSlash, valueField } from './message.ts';

interface ResendEmail {
  /** Absent while `from` names a Worker variable: read when the email is sent, so fixing the variable fixes a replay. */
  from?: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  reply_to?: string;
  tags?: { name: string; value: string }[];
}

/** Resend allows 100 emails per batch call. */
export const RESEND_BATCH_LIMIT = 100;

/** Resend's rule for a tag's name and value: ASCII letters, numbers, underscores and dashes, at most 256 characters. */
export const RESEND_TAG = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * A tag value from an event, made to fit Resend's rule rather than lose the email over it: every other character
 * becomes `_`, and it is cut to 256 characters (an empty value becomes `_`).
 */
export function resendTagValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

/**
 * Email through Resend: `POST /emails` for one, `POST /emails/batch` (up to 100) for several, with an
 * `Idempotency-Key` so a retried call does not send twice. A batch the API refuses outright (4xx) is retried
 * email by email, so one bad address does not sink the other 99. Successes are logged to `email_logs`.
 */
export const resendAction = defineComponent({
  kind: 'action',
  name: 'resend',
  title: 'ResendAction',
  description: 'Sends email through Resend (single or batched), logging to email_logs.',
  writes: ['email_logs'],
  spec: {
    from: field
      .schema<string | { env: string }>({
        anyOf: [
          { type: 'string', minLength: 3 },
          { type: 'object', additionalProperties: false, required: ['env'], properties: { env: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' } } },
        ],
      })
      .describe('Sender, e.g. `Acme <hello@acme.dev>`, or `{ env: RESEND_FROM }`: a Worker variable read when the email is sent.'),
    tags: field
      .record(field.schema<string | Exclude<Value, string>>({ anyOf: [{ type: 'string', pattern: RESEND_TAG.source }, valueSchema.anyOf[1]] }), { maxProperties: 50, propertyNames: { pattern: RESEND_TAG.source } })
      .optional()
      .describe('Resend tags by name. A string is the value itself (letters, numbers, _ and - only); `{ path: ... }` or another value reads it from the event, with other characters made `_`.'),
    to: valueField('Recipient address, from the event.'),
    reply_to: field.string().optional(),
    ...messageSpec,
    api_key: field.secret().describe('Env var holding the Resend API key.'),
    base_url: baseUrl('https://api.resend.com'),
  },
  example: { action: 'resend', from: 'Acme <hello@acme.dev>', to: 'data.email', template: 'welcome', data: { name: 'data.first_name' }, api_key: 'RESEND_API_KEY' },
  create(options, ctx) {
    const base = trimSlash(options.base_url);
    const message = compileMessage(options, ctx, [['subject'], ['html', 'text']]);
    const to = compileValue(options.to, { allowEnvelope: true });
    const tags = Object.entries(options.tags ?? {}).map(([name, spec]): [string, ValueFn] => {
      if (!RESEND_TAG.test(name)) throw new Error(`tag name ${JSON.stringify(name.slice(0, 40))} breaks Resend's rule: ASCII letters, numbers, _ and - only, at most 256 characters`);
      if (typeof spec === 'string') {
        if (!RESEND_TAG.test(spec)) throw new Error(`tag ${name}: ${JSON.stringify(spec.slice(0, 40))} breaks Resend's rule (ASCII letters, numbers, _ and - only, at most 256 characters); a value from the event is { path: ... }`);
        return [name, () => spec];
      }
      return [name, compileValue(spec, { allowEnvelope: true })];
    });
    const fromEnv = typeof options.from === 'object' ? options.from.env : undefined;
    /** The sender of an email about to go: the variable's value when `from` names one. */
    const senderOf = (email: ResendEmail, env: Readonly<Record<string, unknown>>): ResendEmail => {
      if (!fromEnv) return email;
      const value = env[fromEnv];
      if (typeof value !== 'string' || value.trim() === '') throw new ActionError(`resend: the sender variable ${fromEnv} is not set`, { transient: false });
      return { ...email, from: value.trim() };
    };
    return {
      type: 'resend',
      maxBatch: RESEND_BATCH_LIMIT,
      recipient: (payload) => (payload as ResendEmail).to[0],
      prepare(stepCtx: StepContext): ResendEmail {
        const rendered = message.render(stepCtx);
        return {
          ...(typeof options.from === 'string' ? { from: options.from } : {}),
          to: [String(to(stepCtx.values))],
          subject: rendered.subject!,
          ...(rendered.html !== undefined ? { html: rendered.html } : {}),
          ...(rendered.text !== undefined ? { text: rendered.text } : {}),
          ...(options.reply_to ? { reply_to: options.reply_to } : {}),
          ...(tags.length ? { tags: tags.map(([name, value]) => ({ name, value: resendTagValue(value(stepCtx.values)) })) } : {}),
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
        let emails: ResendEmail[];
        try {
          emails = items.map((i) => senderOf(i.payload as ResendEmail, io.env));
        } catch (error) {
          return items.map(() => ({ ok: false, error: error as ActionError }));
        }
        const one = (item: ActionItem) => post('/emails', emails[items.indexOf(item)], item.key).then((res) => expectJson<{ id: string }>('resend', res, io.now));
        // A batch call has one Idempotency-Key for all its emails, so an email tried before goes alone, under its own.
        if (items.length === 1 || items.some((i) => (i.attempt ?? 1) > 1)) return sendEach(items, one);
        let res: Response;
        try {
          res = await post('/emails/batch', emails, await stableId(items.map((i) => i.key).join('\n')));
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
});
