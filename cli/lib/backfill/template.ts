/**
 * Turns a listed object into the event its handlers already read, from the source's `event:` template (data, no
 * code per provider). A string that is exactly one `{placeholder}` becomes the value itself (a number stays a
 * number, an object an object); any other string is text with the placeholders filled in.
 *
 * Placeholders: `object` and `object.<path>` (the listed object), `event.id`, `event.type`, `hash` (16 hex of the
 * object's SHA-256: the same state gives the same id, so it is written once) and `fetched_at` (when the provider
 * served the page, from its Date header, less one second: see docs/backfill.md). Times convert
 * with `|unix_s`, `|unix_ms` or `|iso`.
 */
import { createHash } from 'node:crypto';
import type { BackfillSource } from '../../../runtime/manifest/sources.ts';
import { compilePath, readPath } from '../../../runtime/language/values.ts';

/** An event ready for the admin API's backfill endpoint. */
export interface SyntheticEvent {
  id: string;
  type: string;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const PLACEHOLDER = /\{([a-z_]+)((?:\.[A-Za-z0-9_$-]+(?:\[[0-9]+\])*)*)(?:\|(unix_s|unix_ms|iso))?\}/g;
const WHOLE = new RegExp(`^${PLACEHOLDER.source}$`);

/** A time as ms: numbers below 1e12 are unix seconds, above are ms; strings are dates. */
function toMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function format(value: unknown, as: string | undefined): unknown {
  if (!as || value === undefined || value === null) return value;
  const ms = toMs(value);
  if (ms === undefined) throw new Error(`${JSON.stringify(value)} is not a time (|${as})`);
  return as === 'unix_s' ? Math.floor(ms / 1000) : as === 'unix_ms' ? ms : new Date(ms).toISOString();
}

/** The 16-hex digest of an object's JSON: the same state, the same id. */
export const objectHash = (object: unknown) =>
  createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 16);

interface Scope {
  object: unknown;
  event: { id?: string; type: string };
  hash: string;
  fetched_at: number;
}

function lookup(scope: Scope, name: string, path: string, as: string | undefined): unknown {
  if (!(name in scope)) throw new Error(`unknown placeholder {${name}}: use object, event, hash or fetched_at`);
  const root = scope[name as keyof Scope];
  const value = path ? readPath(compilePath(path.slice(1)), { payload: root }) : root;
  return format(value, as);
}

function render(node: unknown, scope: Scope): unknown {
  if (typeof node === 'string') {
    const whole = WHOLE.exec(node);
    if (whole) return lookup(scope, whole[1]!, whole[2] ?? '', whole[3]);
    return node.replace(PLACEHOLDER, (_, name: string, path: string, as: string | undefined) => {
      const v = lookup(scope, name, path ?? '', as);
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(node)) return node.map((n) => render(n, scope));
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, render(v, scope)]));
  return node;
}

/** Whether the source synthesises an event for this object (its `only:` filter). */
export function wanted(source: BackfillSource, object: unknown): boolean {
  if (!source.only) return true;
  return readPath(compilePath(source.only.path), { payload: object }) === source.only.equals;
}

/**
 * The event for one listed object. `fetchedAt` is ms (the provider's Date header). A `suffix` makes the id new (a
 * repair must not be deduplicated against the backfill of the same state).
 */
export function synthesise(
  source: BackfillSource,
  object: unknown,
  fetchedAt: number,
  suffix?: string,
): SyntheticEvent {
  const scope: Scope = { object, event: { type: source.event.type }, hash: objectHash(object), fetched_at: fetchedAt };
  const rendered = render(source.event.id, scope);
  if (typeof rendered !== 'string' || !rendered || /\{|:$|::/.test(rendered))
    throw new Error(`the event id template ${source.event.id} gave ${JSON.stringify(rendered)} for this object`);
  const id = suffix ? `${rendered}:${suffix}` : rendered;
  scope.event.id = id;
  const body = render(source.event.body, scope) as Record<string, unknown>;
  const headers = source.event.headers ? (render(source.event.headers, scope) as Record<string, string>) : undefined;
  return {
    id,
    type: source.event.type,
    body,
    ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])) } : {}),
  };
}
