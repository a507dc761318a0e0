/** Form bodies for verifiers that sign fields rather than bytes (Twilio, Paddle Classic). */
import { utf8Strict } from '../../runtime/lib/bytes.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';

/** Parses an `application/x-www-form-urlencoded` body into ordered [key, value] pairs. */
export function parseFormPairs(body: Uint8Array): [string, string][] {
  let text: string;
  try {
    text = utf8Strict.decode(body);
  } catch {
    throw new VerificationError('malformed_body', 'form body is not UTF-8');
  }
  return [...new URLSearchParams(text)];
}

/** Groups repeated keys: `a=1&a=2` becomes `{ a: ['1', '2'] }`. */
export function groupPairs(pairs: [string, string][]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const list = grouped.get(k);
    if (list) list.push(v);
    else grouped.set(k, [v]);
  }
  return grouped;
}

/** Code-unit order, which is what JavaScript's default sort and PHP's ksort on string keys agree on. */
export const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
