/** One JSON error shape at the edge: `{ error, message, reason? }`, thrown as a Hono HTTPException. */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** A control character (CR, LF, NUL, ... but not TAB): never valid inside an HTTP header value. */
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
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
}

/** Builds the error response; extra headers (Allow, Retry-After, WWW-Authenticate) ride along. */
export function errorResponse(status: ContentfulStatusCode, body: ErrorBody, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * Throws the error as an HTTPException carrying its complete Response.
 * @example throw httpError(404, { error: 'not_found', message: 'no route for /x' })
 */
export function httpError(status: ContentfulStatusCode, body: ErrorBody, headers?: Record<string, string>): HTTPException {
  return new HTTPException(status, { res: errorResponse(status, body, headers), message: body.message });
}
