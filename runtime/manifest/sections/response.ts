/** An integration's `response:` (manifest/response.ts builds it): pure data. */
import { field } from '../../component/spec.ts';

export const webhookResponseSpec = {
  status: field.integer({ minimum: 200, maximum: 299 }).describe('The HTTP status.').default(200),
  content_type: field
    .string({ pattern: '^[a-z]+/[A-Za-z0-9.+-]+(;.*)?$' })
    .describe(
      'The Content-Type. A JSON type (`application/json`, `…+json`) sends the body value as JSON; any other sends it as text, and it must be a string or a number.',
    )
    .default('application/json'),
  body: field
    .ref('Value')
    .describe(
      'The body, from the event (payload paths, `@id`, `@type`, …); `map` picks a body by a field, e.g. `{ path: type, map: { "2": { type: 5 } } }`. Without it the body is empty.',
    )
    .optional(),
};

/** The WebhookResponse definition. */
export const webhookResponse = field
  .object(webhookResponseSpec, { minProperties: 1 })
  .title('WebhookResponse')
  .describe(
    'The answer to a delivery that was verified and recorded (applied, queued or ignored) or was a duplicate, instead of switchyard\'s own `{"status","id"}` JSON; the outcome and id move to the X-Switchyard-Status and X-Switchyard-Id headers. Errors (4xx, 409, 5xx) keep their own answers. Built from the event before it is recorded: a value the event lacks is a 400 and an ingest dead letter.',
  );
