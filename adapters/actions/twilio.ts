import { readSecrets, type StepContext } from '../../runtime/component/context.ts';
import {
  answerProblem,
  answerString,
  OddAnswer,
  providerError,
  readAnswer,
  sendEach,
} from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { compileValue } from '../../runtime/language/values.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';
import { baseUrl, compileMessage, messageSpec, trimSlash, valueField } from './message.ts';

/**
 * SMS through Twilio's `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: form-encoded, HTTP Basic with the
 * account SID and auth token. The body is a template's (or inline) text. Logged to `sms_logs`; the default
 * manifest's status-callback webhook then updates the status.
 */
export const twilioSmsAction = defineComponent({
  kind: 'action',
  name: 'twilio',
  title: 'TwilioSmsAction',
  description: 'Sends SMS through Twilio, logging to sms_logs.',
  writes: ['sms_logs'],
  spec: {
    to: valueField('E.164 number, from the event.'),
    from: field
      .string({ pattern: '^\\+[1-9][0-9]{6,14}$' })
      .optional()
      .describe('Sender number (or use messaging_service_sid).'),
    messaging_service_sid: field.string({ pattern: '^MG[0-9a-f]{32}$' }).optional(),
    template: field.string().optional().describe("A template's text is the message body."),
    data: field.record(field.ref<Value>('Value')).optional(),
    text: messageSpec.text.describe('Inline body (placeholders allowed), instead of a template.'),
    status_callback: field
      .string({ pattern: '^https://' })
      .optional()
      .describe("Where Twilio posts status changes (e.g. this runtime's /webhooks/twilio)."),
    account_sid: field.secret().describe('Env var holding the Account SID.'),
    auth_token: field.secret().describe('Env var holding the auth token.'),
    base_url: baseUrl('https://api.twilio.com'),
  },
  example: {
    action: 'twilio',
    to: 'data.phone',
    from: '+15005550006',
    text: 'Your code is {{code}}',
    data: { code: 'data.code' },
    account_sid: 'TWILIO_ACCOUNT_SID',
    auth_token: 'TWILIO_AUTH_TOKEN',
  },
  create(options, ctx) {
    if (!options.from === !options.messaging_service_sid)
      throw new Error('give exactly one of from or messaging_service_sid');
    const base = trimSlash(options.base_url);
    const to = compileValue(options.to, { allowEnvelope: true });
    const message = compileMessage(
      {
        ...(options.template ? { template: options.template } : {}),
        ...(options.text ? { text: options.text } : {}),
        ...(options.data ? { data: options.data } : {}),
      },
      ctx,
      [['text']],
    );
    return {
      type: 'twilio',
      maxBatch: 1,
      recipient: (payload) => (payload as { To?: string }).To,
      prepare(stepCtx: StepContext): Record<string, string> {
        return {
          To: String(to(stepCtx.values)),
          ...(options.from ? { From: options.from } : { MessagingServiceSid: options.messaging_service_sid! }),
          Body: message.render(stepCtx).text!,
          ...(options.status_callback ? { StatusCallback: options.status_callback } : {}),
        };
      },
      send(items, io) {
        const [sid, token] = readSecrets(io.env, [options.account_sid, options.auth_token]);
        return sendEach(items, async (item) => {
          const res = await io.fetch(`${base}/2010-04-01/Accounts/${encodeURIComponent(sid!)}/Messages.json`, {
            method: 'POST',
            headers: {
              authorization: `Basic ${btoa(`${sid}:${token}`)}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams(item.payload as Record<string, string>).toString(),
          });
          if (!res.ok) throw await providerError('twilio', res, io.now);
          // Twilio has no idempotency key: a 2xx it could not read is still a message sent, never one to send again.
          const answer = await readAnswer(res);
          const { body } = answer;
          if (answerString(body, 'sid')) return body;
          return new OddAnswer(
            { sid: null, status: answerString(body, 'status') ?? null },
            answerProblem('twilio', res.status, 'a message sid', answer),
          );
        });
      },
      logStatements(item, result, at) {
        const sms = item.payload as Record<string, string>;
        // Without Twilio's sid (an odd answer), the log is keyed by the effect's own key.
        const params = [
          answerString(result, 'sid') ?? item.key,
          sms.To ?? null,
          sms.Body ?? null,
          answerString(result, 'status') ?? null,
          at,
        ];
        return [
          {
            sql: 'INSERT INTO sms_logs (sid, to_number, body, status, sent_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sid) DO NOTHING',
            params,
          },
        ];
      },
    };
  },
});
