import { readSecrets, type StepContext } from '../../runtime/component/context.ts';
import {
  ActionError,
  answerProblem,
  answerString,
  asActionError,
  OddAnswer,
  providerError,
  readAnswer,
  sendEach,
  type ActionItem,
  type ActionOutcome,
} from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { compileValue, valueSchema, type ValueFn } from '../../runtime/language/values.ts';
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
 * Resend's failure, where a 409 `concurrent_idempotent_requests` (the same key is still being processed, by another
 * consumer re-sending the same batch) is worth retrying, unlike other 4xx.
 */
async function resendError(res: Response, nowMs: number): Promise<ActionError> {
  const error = await providerError('resend', res, nowMs);
  if (res.status !== 409 || !error.message.includes('concurrent_idempotent_requests')) return error;
  return new ActionError(error.message, { transient: true, status: 409, ...(error.code ? { code: error.code } : {}) });
}

/**
 * Email through Resend: `POST /emails` for one, `POST /emails/batch` (up to 100) for several, with an
 * `Idempotency-Key` so a retried call does not send twice. A batch call has one key for all its emails
 * (`sharedBatchKey`): the consumer records the batch before the call and re-sends that batch, under that key, when
 * its outcome is unknown; a batch the API refuses outright (4xx) goes email by email, so one bad address does not
 * sink the other 99. An answer without an email id still counts as sent, with a note. Logged to `email_logs`.
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
          {
            type: 'object',
            additionalProperties: false,
            required: ['env'],
            properties: { env: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' } },
          },
        ],
      })
      .describe(
        'Sender, e.g. `Acme <hello@acme.dev>`, or `{ env: RESEND_FROM }`: a Worker variable read when the email is sent.',
      ),
    tags: field
      .record(
        field.schema<string | Exclude<Value, string>>({
          anyOf: [{ type: 'string', pattern: RESEND_TAG.source }, valueSchema.anyOf[1]],
        }),
        { maxProperties: 50, propertyNames: { pattern: RESEND_TAG.source } },
      )
      .optional()
      .describe(
        'Resend tags by name. A string is the value itself (letters, numbers, _ and - only); `{ path: ... }` or another value reads it from the event, with other characters made `_`.',
      ),
    to: valueField('Recipient address, from the event.'),
    reply_to: field.string().optional(),
    ...messageSpec,
    api_key: field.secret().describe('Env var holding the Resend API key.'),
    base_url: baseUrl('https://api.resend.com'),
  },
  example: {
    action: 'resend',
    from: 'Acme <hello@acme.dev>',
    to: 'data.email',
    template: 'welcome',
    data: { name: 'data.first_name' },
    api_key: 'RESEND_API_KEY',
  },
  create(options, ctx) {
    const base = trimSlash(options.base_url);
    const message = compileMessage(options, ctx, [['subject'], ['html', 'text']]);
    const to = compileValue(options.to, { allowEnvelope: true });
    const tags = Object.entries(options.tags ?? {}).map(([name, spec]): [string, ValueFn] => {
      if (!RESEND_TAG.test(name))
        throw new Error(
          `tag name ${JSON.stringify(name.slice(0, 40))} breaks Resend's rule: ASCII letters, numbers, _ and - only, at most 256 characters`,
        );
      if (typeof spec === 'string') {
        if (!RESEND_TAG.test(spec))
          throw new Error(
            `tag ${name}: ${JSON.stringify(spec.slice(0, 40))} breaks Resend's rule (ASCII letters, numbers, _ and - only, at most 256 characters); a value from the event is { path: ... }`,
          );
        return [name, () => spec];
      }
      return [name, compileValue(spec, { allowEnvelope: true })];
    });
    const fromEnv = typeof options.from === 'object' ? options.from.env : undefined;
    /** The sender of an email about to go: the variable's value when `from` names one. */
    const senderOf = (email: ResendEmail, env: Readonly<Record<string, unknown>>): ResendEmail => {
      if (!fromEnv) return email;
      const value = env[fromEnv];
      if (typeof value !== 'string' || value.trim() === '')
        throw new ActionError(`resend: the sender variable ${fromEnv} is not set`, { transient: false });
      return { ...email, from: value.trim() };
    };
    return {
      type: 'resend',
      maxBatch: RESEND_BATCH_LIMIT,
      recipient: (payload) => (payload as ResendEmail).to[0],
      describe(payload) {
        const email = payload as ResendEmail;
        return {
          from: email.from ?? `{ env: ${fromEnv} }`,
          to: (email.to ?? []).join(', '),
          subject: email.subject ?? '',
          ...(options.template ? { template: options.template } : {}),
          ...(email.reply_to ? { reply_to: email.reply_to } : {}),
        };
      },
      prepare(stepCtx: StepContext): ResendEmail {
        const rendered = message.render(stepCtx);
        return {
          ...(typeof options.from === 'string' ? { from: options.from } : {}),
          to: [String(to(stepCtx.values))],
          subject: rendered.subject!,
          ...(rendered.html !== undefined ? { html: rendered.html } : {}),
          ...(rendered.text !== undefined ? { text: rendered.text } : {}),
          ...(options.reply_to ? { reply_to: options.reply_to } : {}),
          ...(tags.length
            ? { tags: tags.map(([name, value]) => ({ name, value: resendTagValue(value(stepCtx.values)) })) }
            : {}),
        };
      },
      sharedBatchKey: true,
      async send(items, io, batch) {
        const [key] = readSecrets(io.env, options.api_key);
        const post = (path: string, body: unknown, idempotencyKey: string) =>
          io.fetch(`${base}${path}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              'idempotency-key': idempotencyKey,
            },
            body: JSON.stringify(body),
          });
        let emails: ResendEmail[];
        try {
          emails = items.map((i) => senderOf(i.payload as ResendEmail, io.env));
        } catch (error) {
          return items.map(() => ({ ok: false, error: error as ActionError }));
        }
        const one = async (item: ActionItem) => {
          const res = await post('/emails', emails[items.indexOf(item)], item.key);
          if (!res.ok) throw await resendError(res, io.now);
          const answer = await readAnswer(res);
          const { body } = answer;
          const id = answerString(body, 'id');
          return id ? { id } : new OddAnswer({ id: null }, answerProblem('resend', res.status, 'an email id', answer));
        };
        if (items.length === 1 || !batch) return sendEach(items, one);
        let res: Response;
        try {
          res = await post('/emails/batch', emails, batch.key);
        } catch (error) {
          const failure = asActionError(error);
          return items.map(() => ({ ok: false, error: failure }));
        }
        if (!res.ok) {
          const error = await resendError(res, io.now);
          return items.map(() => ({ ok: false, error }));
        }
        const answer = await readAnswer(res);
        const { body } = answer;
        const data = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
        return items.map((_, i): ActionOutcome => {
          const id = Array.isArray(data) ? answerString(data[i], 'id') : undefined;
          return id
            ? { ok: true, result: { id } }
            : {
                ok: true,
                result: { id: null },
                problem: answerProblem(
                  'resend',
                  res.status,
                  `an id for email ${i + 1} of ${items.length} in data`,
                  answer,
                ),
              };
        });
      },
      logStatements(item, result, at) {
        const email = item.payload as ResendEmail;
        return [
          {
            sql: "INSERT INTO email_logs (id, to_email, subject, status, sent_at) VALUES (?1, ?2, ?3, 'sent', ?4) ON CONFLICT (id) DO NOTHING",
            // Without the provider's id (an odd answer), the log is keyed by the effect's own key.
            params: [answerString(result, 'id') ?? item.key, email.to[0] ?? null, email.subject ?? null, at],
          },
        ];
      },
    };
  },
});
