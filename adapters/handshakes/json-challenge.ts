import { defineComponent } from '../../runtime/component/define.ts';
import { bodyField, compileWhen, verifyField, whenField } from '../../runtime/component/handshake.ts';
import { field } from '../../runtime/component/spec.ts';

/**
 * A POST whose JSON body field marks it as the handshake, answered with a field of the body (Slack's
 * url_verification echoes `challenge`), a constant (a Discord interactions PING is answered `{"type":1}`), or an
 * empty 204 (a Discord webhook-events PING).
 */
export const jsonChallengeHandshake = defineComponent({
  kind: 'handshake',
  name: 'json-challenge',
  title: 'JsonChallengeHandshake',
  description: 'A POST whose JSON field marks the handshake; answered with a body field or a constant JSON.',
  spec: {
    when: whenField(),
    answer_field: field
      .string({ minLength: 1 })
      .optional()
      .describe('The body field whose value answers (e.g. challenge).'),
    // No default: `answer` is refused without `answer_field`, so an absent one must stay absent.
    answer: field
      .enum(['json', 'text'])
      .optional()
      .describe('json (default): `{ <answer_field>: value }`; text: the value as text/plain.'),
    respond: field
      .schema<Record<string, unknown>>({ type: 'object' })
      .optional()
      .describe('A constant JSON answer instead of a field (e.g. `{ type: 1 }`).'),
    status: field
      .enum([200, 204])
      .default(200)
      .describe('200 with the answer, or 204 with no body (Discord webhook events answer their PING so).'),
    verify: verifyField(),
  },
  example: { type: 'json-challenge', when: { field: 'type', equals: 'url_verification' }, answer_field: 'challenge' },
  create(options) {
    const empty = options.status === 204;
    if (empty && (options.answer_field || options.respond))
      throw new Error('status 204 answers with no body: drop `answer_field` and `respond`');
    if (!empty && Boolean(options.answer_field) === Boolean(options.respond))
      throw new Error('set exactly one of `answer_field` and `respond` (or `status: 204` for an empty answer)');
    if (options.answer && !options.answer_field) throw new Error('`answer` applies to `answer_field`');
    const handshakeBody = compileWhen(options.when);
    const answerField = options.answer_field ? bodyField(options.answer_field) : undefined;
    return {
      methods: [],
      verify: options.verify,
      matches: (request) => handshakeBody(request) !== undefined,
      async answer(request) {
        if (empty) return { status: 204, contentType: 'text/plain', body: '' };
        if (options.respond)
          return { status: 200, contentType: 'application/json', body: JSON.stringify(options.respond) };
        const value = answerField!(handshakeBody(request));
        if (typeof value !== 'string' || value === '')
          return {
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ error: 'bad_request', message: `the handshake has no ${options.answer_field}` }),
          };
        return options.answer === 'text'
          ? { status: 200, contentType: 'text/plain', body: value }
          : { status: 200, contentType: 'application/json', body: JSON.stringify({ [options.answer_field!]: value }) };
      },
    };
  },
});
