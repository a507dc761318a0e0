/**
 * The answer an integration declares for its webhooks (`response:`), for providers that read the answer: Discord
 * takes an interaction response (`{"type":5}`) where switchyard would answer `{"status":"accepted",…}`. It is built
 * from the event by the value language, before the event is recorded, so a value the event lacks is a 400 and an
 * ingest dead letter (like an unmappable event) and never an event recorded with no answer to give.
 */
import type { Envelope } from '../lib/envelope.ts';
import { compileValue, MappingError } from '../language/values.ts';
import { OptionError } from './problems.ts';
import type { WebhookResponse } from './types.gen.ts';

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
  // Defaults applied from the spec (runtime/manifest/sections/response.ts) before compile.
  const status = spec.status!;
  const contentType = spec.content_type!;
  if (spec.body !== undefined && NO_BODY.has(status))
    throw new Error(`a ${status} answer has no body: drop \`body\` or choose another status`);
  if (spec.body !== undefined && typeof spec.body === 'object' && 'env' in spec.body)
    throw new OptionError(
      'body',
      'an answer cannot read a Worker variable (`env`): it goes to whoever sent the request',
    );
  const value = spec.body === undefined ? undefined : compileValue(spec.body, { allowEnvelope: true });
  const json = /^application\/([a-z0-9.-]+\+)?json\b/i.test(contentType);
  return (envelope) => {
    if (!value) return { status, contentType, body: '' };
    let body: unknown;
    try {
      body = value({ payload: envelope.payload, envelope: envelope as unknown as Record<string, unknown> });
    } catch (error) {
      if (error instanceof MappingError)
        throw new MappingError(`response body: ${error.message}`, `response body: ${error.logText}`);
      throw error;
    }
    if (json) return { status, contentType, body: JSON.stringify(body ?? null) };
    if (typeof body === 'string' || typeof body === 'number') return { status, contentType, body: String(body) };
    throw new MappingError(
      `response body: a ${contentType} answer needs a string, not ${body === null ? 'null' : typeof body}`,
    );
  };
}
