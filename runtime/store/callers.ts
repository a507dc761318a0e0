/**
 * Who a command call belongs to, in its id: the Idempotency-Key a caller sent, scoped to that caller. One format,
 * written by the command paths and read by the admin API's search.
 */
import { sha256, toHex } from '../lib/bytes.ts';

/** Hex digits of a caller's tag in a call's id: 64 bits of SHA-256 of the caller. */
const TAG_HEX = 16;

/**
 * A command call's id in the log: the caller's Idempotency-Key and a tag of who called, so another caller's same
 * key is another row, and the key the provider is sent (`command:<name>:<id>:<step>`) is another key. A fixed-length
 * hex tag, not the caller itself: a `<provider>:<sub>` has no length bound and a `:` the provider key separates on.
 */
export async function commandCallId(key: string, caller: string): Promise<string> {
  return `${key}~${toHex(await sha256(caller)).slice(0, TAG_HEX)}`;
}

/** The bounds of the ids of every caller's call with a key (for a search by the key a caller sent). */
export const commandCallRange = (key: string): [string, string] => [`${key}~0`, `${key}~g`];

/** True when `id` is a call made with `key` (by any caller). */
export const isCommandCallOf = (id: string, key: string) =>
  id.length === key.length + 1 + TAG_HEX && id.startsWith(`${key}~`) && /^[0-9a-f]+$/.test(id.slice(key.length + 1));
