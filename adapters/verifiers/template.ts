/**
 * What a signature covers, as a template compiled once at load time and filled per request from the raw bytes:
 * `{body}` `{timestamp}` `{url}` `{method}` `{path}` `{header.<name>}` `{field.<dotted.path>}`. Shared by the hmac
 * and ed25519 schemes, for verifying and for signing, so both sides build the same bytes.
 */
import { VerificationError } from '../../runtime/component/verifier.ts';
import { compileBodyPath, readPath, type CompiledPath } from '../../runtime/language/values.ts';
import { concatBytes } from './crypto.ts';
import { utf8 } from '../../runtime/lib/bytes.ts';

export type Piece =
  | { literal: string }
  | { body: true }
  | { timestamp: true }
  | { url: true }
  | { method: true }
  | { path: true }
  | { header: string }
  | { field: CompiledPath };

export interface SignedTemplate {
  pieces: Piece[];
  coversBody: boolean;
  usesFields: boolean;
  /** Lower-case names of the headers the template reads (for the signed-headers check). */
  headers: string[];
}

const PLACEHOLDERS = '{body}, {timestamp}, {url}, {method}, {path}, {header.<name>} or {field.<path>}';

/**
 * Compiles `signed`. `{timestamp}` needs a timestamp source; a template that does not cover the body is refused
 * unless the scheme says the provider signs only fields (`allowNoBody`).
 */
export function compileSigned(
  template: string,
  opts: { hasTimestamp: boolean; allowNoBody?: boolean },
): SignedTemplate {
  const pieces: Piece[] = [];
  const re = /\{([^{}]+)\}/g;
  let last = 0;
  const literal = (text: string) => text && pieces.push({ literal: text.replace(/\\n/g, '\n') });
  for (let m = re.exec(template); m; m = re.exec(template)) {
    literal(template.slice(last, m.index));
    const name = m[1]!;
    if (name === 'body') pieces.push({ body: true });
    else if (name === 'timestamp') {
      if (!opts.hasTimestamp)
        throw new Error(
          '`signed` uses {timestamp} but no timestamp is configured (`timestamp_header`, `timestamp_field` or a keyed/positional signature)',
        );
      pieces.push({ timestamp: true });
    } else if (name === 'url') pieces.push({ url: true });
    else if (name === 'method') pieces.push({ method: true });
    else if (name === 'path') pieces.push({ path: true });
    else if (name.startsWith('header.') && name.length > 7) pieces.push({ header: name.slice(7).toLowerCase() });
    else if (name.startsWith('field.') && name.length > 6) pieces.push({ field: compileBodyPath(name.slice(6)) });
    else throw new Error(`unknown placeholder {${name}} in \`signed\`; use ${PLACEHOLDERS}`);
    last = m.index + m[0].length;
  }
  literal(template.slice(last));
  const coversBody = pieces.some((p) => 'body' in p);
  if (!coversBody && !opts.allowNoBody)
    throw new Error('`signed` must include {body}: a signature that does not cover the body proves nothing about it');
  return {
    pieces,
    coversBody,
    usesFields: pieces.some((p) => 'field' in p),
    headers: pieces.flatMap((p) => ('header' in p ? [p.header] : [])),
  };
}

/** A JSON body field as the text a provider signs: strings as-is, anything else as JSON; absent is empty. */
export function fieldText(json: unknown, path: CompiledPath): string {
  const at = readPath(path, { payload: json });
  return at === undefined || at === null ? '' : typeof at === 'string' ? at : JSON.stringify(at);
}

/** Parses a JSON body for field placeholders; a body that is not JSON is refused (never guessed at). */
export function parseBodyJson(body: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : utf8.decode(body));
  } catch {
    throw new VerificationError('malformed_body', 'the signature is read from JSON fields, and the body is not JSON');
  }
}

export interface FillContext {
  body: Uint8Array | string;
  timestamp: string;
  url: URL;
  method: string;
  header(name: string): string;
  /** The parsed body, when the template reads fields. */
  json?: unknown;
}

/** The exact bytes the template describes for one request. */
export function fillSigned(t: SignedTemplate, ctx: FillContext): Uint8Array {
  return concatBytes(
    ...t.pieces.map((p) =>
      'literal' in p
        ? p.literal
        : 'body' in p
          ? ctx.body
          : 'timestamp' in p
            ? ctx.timestamp
            : 'url' in p
              ? ctx.url.href
              : 'method' in p
                ? ctx.method
                : 'path' in p
                  ? ctx.url.pathname + ctx.url.search
                  : 'header' in p
                    ? ctx.header(p.header)
                    : fieldText(ctx.json, p.field),
    ),
  );
}
