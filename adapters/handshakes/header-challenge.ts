import { bodyField, verifySchema, type HandshakeAdapter } from '../../runtime/component/handshake.ts';
import type { HeaderChallengeHandshake } from '../../runtime/manifest/types.gen.ts';

type Options = Omit<HeaderChallengeHandshake, 'type'>;

/**
 * A POST marked by a header value (Twitch EventSub: `Twitch-Eventsub-Message-Type: webhook_callback_verification`),
 * answered with a JSON body field as text/plain.
 */
export const headerChallengeHandshake: HandshakeAdapter<Options> = {
  type: 'header-challenge',
  title: 'HeaderChallengeHandshake',
  description: 'A POST marked by a header value; answered with a JSON body field as text/plain.',
  options: {
    properties: {
      when_header: { type: 'string', minLength: 1, description: 'The header that marks the handshake.' },
      equals: { type: 'string', minLength: 1, description: 'Its value on the handshake.' },
      answer_field: { type: 'string', minLength: 1, description: 'The body field whose value answers (e.g. challenge).' },
      verify: verifySchema,
    },
    required: ['when_header', 'equals', 'answer_field'],
  },
  example: { type: 'header-challenge', when_header: 'Twitch-Eventsub-Message-Type', equals: 'webhook_callback_verification', answer_field: 'challenge' },
  create(options) {
    const header = options.when_header.toLowerCase();
    const answerField = bodyField(options.answer_field);
    return {
      methods: [],
      verify: options.verify ?? true,
      matches: (request) => request.method === 'POST' && request.headers.get(header) === options.equals,
      async answer(request) {
        let value: unknown;
        try {
          value = answerField(JSON.parse(new TextDecoder().decode(request.body)));
        } catch {
          value = undefined;
        }
        if (typeof value !== 'string' || value === '') return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'bad_request', message: `the handshake has no ${options.answer_field}` }) };
        return { status: 200, contentType: 'text/plain', body: value };
      },
    };
  },
};
