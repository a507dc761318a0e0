/**
 * Values placed in a URL path: `encodeURIComponent` keeps dots, and the URL parser collapses a `.` or `..` segment
 * (`/pi/..` is `/`), so a value of `..` would send the request, and its credentials, to another endpoint of the same
 * API. A server may also decode a segment once more before it resolves it (`%2e%2e`, `..%2f`). These are refused.
 */

/** How many rounds of percent-decoding are looked through before a value is refused as too deeply encoded. */
const MAX_DECODES = 8;
const DOT_SEGMENT = (segment: string) => segment === '.' || segment === '..';

/**
 * Whether a value placed in a URL path is, or decodes (once or more) to, something with a `.` or `..` segment
 * between `/` or `\`.
 * @example climbsPath('..') // true; climbsPath('%2E%2e') // true; climbsPath('v1.2') // false
 */
export function climbsPath(value: string): boolean {
  let text = value;
  for (let round = 0; round <= MAX_DECODES; round++) {
    if (text.split(/[\\/]/).some(DOT_SEGMENT)) return true;
    let next: string;
    try {
      next = decodeURIComponent(text);
    } catch {
      // Not valid percent-encoding as a whole (`50%`): decode what a lenient server would.
      next = text.replace(/%(2e|2f|5c|25)/gi, (encoded) => decodeURIComponent(encoded));
    }
    if (next === text) return false;
    text = next;
  }
  return true;
}

/**
 * One path segment: the value URL-encoded, or undefined when it would climb out of the path (see climbsPath).
 * @example `${base}/v1/users/${pathSegment(sub) ?? fail()}`
 */
export const pathSegment = (value: string): string | undefined =>
  climbsPath(value) ? undefined : encodeURIComponent(value);
