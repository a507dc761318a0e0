/**
 * The answer an integration declares for its webhooks (`response:`), for providers that read the answer: Discord
 * takes an interaction response (`{"type":5}`) where switchyard would answer `{"status":"accepted",…}`. It is built
 * from the event by the value language, before the event is recorded, so a value the event lacks is a 400 and an
 * ingest dead letter (like an unmappable event) and never an event recorded with no answer to give.
 */
import type { Envelope } from '../lib/envelope.ts';
import { compileValue, MappingError, valueRef } from '../language/values.ts';
import { OptionError } from './problems.ts';
import type { WebhookResponse } from './types.gen.ts';

/** The `response:` option of an integration, declared once for the schema. */
export const webhookResponseSchema = {
  type: 'object',
  title: 'WebhookResponse',
  additionalProperties: false,
  minProperties: 1,
  description:
    "The answer to a delivery that was verified and recorded (applied, queued or ignored) or was a duplicate, instead of switchyard's own `{\"status\",\"id\"}` JSON; the outcome and id move to the X-Switchyard-Status and X-Switchyard-Id headers. Errors (4xx, 409, 5xx) keep their own answers. Built from the event before it is recorded: a value the event lacks is a 400 and an ingest dead letter.",
  properties: {
    status: { type: 'integer', minimum: 200, maximum: 299, description: 'The HTTP status (default 200).' },
    content_type: { type: 'string', pattern: '^[a-z]+/[A-Za-z0-9.+-]+(;.*)?$', description: 'The Content-Type (default application/json). A JSON type (`application/json`, `…+json`) sends the body value as JSON; any other sends it as text, and it must be a string or a number.' },
    body: { ...valueRef, description: 'The body, from the event (payload paths, `@id`, `@type`, …); `map` picks a body by a field, e.g. `{ path: type, map: { "2": { type: 5 } } }`. Without it the body is empty.' },
  },
} as const;

/** What a declared response gives for one event. */
export interface DeclaredAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Statuses whose answers carry no body. */
const NO_BODY = new Set([204, 205]);

/**
 * Compiles `response:` once. Throws (a manifest problem) on a spec that cannot answer: a body with 204, or a value
 * that reads a Worker variable (an answer goes to whoever sent the request). The function throws MappingError when
 * the event lacks a value the body needs.
 * @example compileResponse({ body: { path: 'type', map: { '2': { type: 5 } } } })(envelope) // { status: 200, contentType: 'application/json', body: '{"type":5}' }
 */
export function compileResponse(spec: WebhookResponse): (envelope: Envelope) => DeclaredAnswer {
  const status = spec.status ?? 200;
  const contentType = spec.content_type ?? 'application/json';
  if (spec.body !== undefined && NO_BODY.has(status)) throw new Error(`a ${status} answer has no body: drop \`body\` or choose another status`);
  if (spec.body !== undefined && typeof spec.body === 'object' && 'env' in spec.body) throw new OptionError('body', 'an answer cannot read a Worker variable (`env`): it goes to whoever sent the request');
  const value = spec.body === undefined ? undefined : compileValue(spec.body, { allowEnvelope: true });
  const json = /^application\/([a-z0-9.-]+\+)?json\b/i.test(contentType);
  return (envelope) => {
    if (!value) return { status, contentType, body: '' };
    let body: unknown;
    try {
      body = value({ payload: envelope.payload, envelope: envelope as unknown as Record<string, unknown> });
    } catch (error) {
      if (error instanceof MappingError) throw new MappingError(`response body: ${error.message}`, `response body: ${error.logText}`);
      throw error;
    }
    if (json) return { status, contentType, body: JSON.stringify(body ?? null) };
    if (typeof body === 'string' || typeof body === 'number') return { status, contentType, body: String(body) };
    throw new MappingError(`response body: a ${contentType} answer needs a string, not ${body === null ? 'null' : typeof body}`);
  };
}
