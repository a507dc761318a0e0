/** One JSON error shape at the edge: `{ error, message, reason? }`, thrown as a Hono HTTPException. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** A control character (CR, LF, NUL, ... but not TAB): never valid inside an HTTP header value. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'unprocessable'
  | 'bad_gateway'
  | 'method_not_allowed'
  | 'conflict'
  | 'rate_limited'
  | 'payload_too_large'
  | 'internal'
  | 'misconfigured'
  | 'unavailable';

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  reason?: string;
  /** Where an input was refused and why (422). */
  problems?: { path: string; message: string }[];
}

/** Builds the error response; extra headers (Allow, Retry-After, WWW-Authenticate) ride along. */
export function errorResponse(
  status: ContentfulStatusCode,
  body: ErrorBody,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * Throws the error as an HTTPException carrying its complete Response.
 * @example throw httpError(404, { error: 'not_found', message: 'no route for /x' })
 */
export function httpError(
  status: ContentfulStatusCode,
  body: ErrorBody,
  headers?: Record<string, string>,
): HTTPException {
  const error = new HTTPException(status, { res: errorResponse(status, body, headers), message: body.message });
  errorBodies.set(error, body);
  return error;
}

/** The body each httpError answers with: the refusal log reads its reason here (its Response's body is read once). */
export const errorBodies = new WeakMap<HTTPException, ErrorBody>();

/**
 * Reads a request body, refusing more than `max` bytes without buffering the excess: undefined when it is larger.
 * Every edge handler reads bodies through it (webhooks, commands, /v1/track, /v1/uploads). The body is always read
 * chunk by chunk and counted: a `content-length` is only an early refusal, since it can lie (a Service Binding or a
 * stream handed in has no framing that holds it). A body that breaks before its end (the client went away, the stream
 * errored) is a 400, thrown as an HTTPException; cancelling the excess is not awaited, so a stream that fails or
 * hangs as it is cancelled cannot turn the 413 into a 500.
 * @example const body = await readBody(request, 64 * 1024); if (!body) return errorResponse(413, ...)
 */
export async function readBody(request: Request, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > max) return undefined;
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch {
      throw httpError(400, {
        error: 'bad_request',
        message: 'the body ended before it was complete',
        reason: 'broken_body',
      });
    }
    if (read.done) break;
    total += read.value.byteLength;
    if (total > max) {
      reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(read.value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The request's `ctx.waitUntil`, or nothing when it has no execution context (`app.request` in tests). */
export function waitUntilOf(c: Context): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}
