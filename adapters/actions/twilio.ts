import { readSecrets, secretRefSchema, type StepContext } from '../../runtime/component/context.ts';
import { expectJson, sendEach, type ActionAdapter } from '../../runtime/component/action.ts';
import { compileValue } from '../../runtime/manifest/values.ts';
import { baseUrlSchema, compileMessage, trimSlash } from './message.ts';
import type { TwilioSmsAction } from '../../runtime/manifest/types.gen.ts';

type TwilioSmsOptions = Omit<TwilioSmsAction, 'limits' | 'description' | 'action'>;

/**
 * SMS through Twilio's `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: form-encoded, HTTP Basic with the
 * account SID and auth token. The body is a template's (or inline) text. Logged to `sms_logs`; the default
 * manifest's status-callback webhook then updates the status.
 */
export const twilioSmsAction: ActionAdapter<TwilioSmsOptions> = {
  type: 'twilio',
  title: 'TwilioSmsAction',
  description: 'Sends SMS through Twilio, logging to sms_logs.',
  options: {
    properties: {
      to: { $ref: '#/definitions/Value', description: 'E.164 number, from the event.' },
      from: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$', description: 'Sender number (or use messaging_service_sid).' },
      messaging_service_sid: { type: 'string', pattern: '^MG[0-9a-f]{32}$' },
      template: { type: 'string', description: "A template's text is the message body." },
      data: { type: 'object', additionalProperties: { $ref: '#/definitions/Value' } },
      text: { type: 'string', description: 'Inline body (placeholders allowed), instead of a template.' },
      status_callback: { type: 'string', pattern: '^https://', description: 'Where Twilio posts status changes (e.g. this runtime\'s /webhooks/twilio).' },
      account_sid: { ...secretRefSchema, description: 'Env var holding the Account SID.' },
      auth_token: { ...secretRefSchema, description: 'Env var holding the auth token.' },
      base_url: baseUrlSchema,
    },
    required: ['to', 'account_sid', 'auth_token'],
  },
  example: { action: 'twilio', to: 'data.phone', from: '+15005550006', text: 'Your code is {{code}}', data: { code: 'data.code' }, account_sid: 'TWILIO_ACCOUNT_SID', auth_token: 'TWILIO_AUTH_TOKEN' },
  create(options, ctx) {
    if (!options.from === !options.messaging_service_sid) throw new Error('give exactly one of from or messaging_service_sid');
    const base = trimSlash(options.base_url ?? 'https://api.twilio.com');
    const to = compileValue(options.to as never, { allowEnvelope: true });
    const message = compileMessage({ ...(options.template ? { template: options.template } : {}), ...(options.text ? { text: options.text } : {}), ...(options.data ? { data: options.data } : {}) }, ctx, [['text']]);
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
            headers: { authorization: `Basic ${btoa(`${sid}:${token}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(item.payload as Record<string, string>).toString(),
          });
          return expectJson<{ sid: string; status: string }>('twilio', res, io.now);
        });
      },
      logStatements(item, result, at) {
        const sms = item.payload as Record<string, string>;
        const sent = result as { sid: string; status: string };
        return [{ sql: 'INSERT INTO sms_logs (sid, to_number, body, status, sent_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sid) DO NOTHING', params: [sent.sid, sms.To, sms.Body, sent.status, at] }];
      },
    };
  },
};
