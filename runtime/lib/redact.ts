/**
 * Scrubbing secret values from text a provider sends back (an error answer, a result): a provider that echoes a key
 * rarely echoes it byte for byte. It URL-encodes it (a query string, a form body), JSON-escapes it (a quoted value),
 * or base64-encodes it (a Basic credential, `user:key`). Each form of each secret is replaced with `[redacted]`.
 */
import { encoder, toBase64 } from './bytes.ts';

/**
 * Names that say their value is a credential, shown only as `[redacted]`. A request's headers are read broadly: any
 * signature, HMAC, key or session header (`stripe-signature`, `x-hub-signature-256`, `x-api-key`). An outbound
 * payload's fields more narrowly, so what an effect sends stays readable (`idempotency_key`, `template_key`).
 */
export const CREDENTIAL_HEADER = /auth|sign|secret|token|key|cookie|hmac|password|session|credential|(^|-)sig($|-)/i;
export const CREDENTIAL_FIELD = /authorization|token|secret|api[-_]?key|password|cookie|signature|credential/i;

/** Secrets shorter than this are not searched for: they would match ordinary words. */
export const MIN_REDACTED_LENGTH = 4;

/** A base64 run shorter than this is not searched for either (a short secret's run would match ordinary text). */
const MIN_BASE64_RUN = 8;

/**
 * The base64 runs that a secret's bytes alone decide, wherever it sits in the encoded text (after 0, 1 or 2 other
 * bytes, as after `user:` in a Basic credential): the 4-character groups it shares with its neighbours are left out.
 */
function base64Runs(bytes: Uint8Array): string[] {
  // Alone, it is encoded whole, padding included.
  const runs: string[] = [toBase64(bytes), toBase64(bytes).replace(/=+$/, '')];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const text = toBase64(padded).replace(/=+$/, '');
    const start = offset === 0 ? 0 : 4;
    const fullGroups = Math.floor((offset + bytes.length) / 3);
    // Whole groups of the secret's own bytes; the last one shares with whatever follows unless it ends a group.
    const run = text.slice(start, fullGroups * 4);
    if (run.length >= MIN_BASE64_RUN) runs.push(run, run.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return runs;
}

/** Every form of one secret a provider may echo: as is, URL- and form-encoded, JSON-escaped and base64. */
export function secretForms(value: string): string[] {
  if (value.length < MIN_REDACTED_LENGTH) return [];
  const forms = [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    ...base64Runs(encoder.encode(value)),
  ];
  return [...new Set(forms)];
}

/**
 * A function that replaces each form of each of these secrets with `[redacted]` (longest first, so a form that
 * contains another is replaced whole).
 * @example secretRedactor(['k y/1+2'])('bad key k%20y%2F1%2B2') === 'bad key [redacted]'
 */
export function secretRedactor(values: readonly string[]): (text: string) => string {
  const cacheKey = values.join('\0');
  const cached = redactors.get(cacheKey);
  if (cached) return cached;
  const forms = [...new Set(values.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  const redact = forms.length
    ? (text: string) =>
        forms.reduce((out, form) => (out.includes(form) ? out.split(form).join('[redacted]') : out), text)
    : (text: string) => text;
  // An action asks for one per send with the same secrets (read from the environment): their forms are worked out once.
  if (redactors.size >= MAX_CACHED_REDACTORS) redactors.delete(redactors.keys().next().value!);
  redactors.set(cacheKey, redact);
  return redact;
}

/** Redactors by the secrets they scrub, per isolate; a rotated secret makes a new one. */
const redactors = new Map<string, (text: string) => string>();
const MAX_CACHED_REDACTORS = 64;
