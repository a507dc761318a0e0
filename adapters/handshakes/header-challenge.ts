import { defineComponent } from '../../runtime/component/define.ts';
import { utf8 } from '../../runtime/lib/bytes.ts';
import { bodyField, verifyField } from '../../runtime/component/handshake.ts';
import { field } from '../../runtime/component/spec.ts';

/**
 * A POST marked by a header value (Twitch EventSub: `Twitch-Eventsub-Message-Type: webhook_callback_verification`),
 * answered with a JSON body field as text/plain.
 */
export const headerChallengeHandshake = defineComponent({
  kind: 'handshake',
  name: 'header-challenge',
  title: 'HeaderChallengeHandshake',
  description: 'A POST marked by a header value; answered with a JSON body field as text/plain.',
  spec: {
    when_header: field.string({ minLength: 1 }).describe('The header that marks the handshake.'),
    equals: field.string({ minLength: 1 }).describe('Its value on the handshake.'),
    answer_field: field.string({ minLength: 1 }).describe('The body field whose value answers (e.g. challenge).'),
    verify: verifyField(),
  },
  example: {
    type: 'header-challenge',
    when_header: 'Twitch-Eventsub-Message-Type',
    equals: 'webhook_callback_verification',
    answer_field: 'challenge',
  },
  create(options) {
    const header = options.when_header.toLowerCase();
    const answerField = bodyField(options.answer_field);
    return {
      methods: [],
      verify: options.verify,
      matches: (request) => request.method === 'POST' && request.headers.get(header) === options.equals,
      async answer(request) {
        let value: unknown;
        try {
          value = answerField(JSON.parse(utf8.decode(request.body)));
        } catch {
          value = undefined;
        }
        if (typeof value !== 'string' || value === '')
          return {
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ error: 'bad_request', message: `the handshake has no ${options.answer_field}` }),
          };
        return { status: 200, contentType: 'text/plain', body: value };
      },
    };
  },
});
