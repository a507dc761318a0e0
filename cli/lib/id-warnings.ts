/**
 * `validate` warnings about event ids that can collide. The runtime deduplicates on (integration, id), so an id that
 * two different deliveries can share loses the second one silently: it is answered `200 duplicate`, which no
 * provider retries. Warnings, not errors: a fixed id can be what the operator means (a ping), and each says why not.
 */
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const PLACEHOLDER = /\{[^{}]+\}/;

/** How a warning names a value: as `compileValue`'s errors do. */
function describe(value: Record<string, unknown>): string {
  if (typeof value.template === 'string') return `template ${JSON.stringify(value.template)}`;
  if (typeof value.path === 'string') return `path ${value.path}`;
  if (typeof value.header === 'string') return `header ${value.header}`;
  return Object.keys(value).find((k) => k !== 'transform' && k !== 'default') ?? 'the value';
}

/** The warnings for one value of an event id (`at` is its path), walking `first` alternatives. */
function idValueWarnings(value: unknown, at: (string | number)[]): ManifestProblem[] {
  if (!isObject(value)) return [];
  const out: ManifestProblem[] = [];
  const same = 'all but the first are answered duplicate and never stored';
  if (Array.isArray(value.first))
    value.first.forEach((alternative, i) => out.push(...idValueWarnings(alternative, [...at, 'first', i])));
  else if ('const' in value)
    out.push({ path: at, message: `every event gets the id ${JSON.stringify(value.const)}: ${same}` });
  else if (typeof value.template === 'string' && !PLACEHOLDER.test(value.template))
    out.push({ path: at, message: `every event gets the id ${JSON.stringify(value.template)}: ${same}` });
  else if (value.now === true) {
    out.push({
      path: at,
      message:
        'the id is the arrival time: two deliveries in the same millisecond share it (the second is answered duplicate and never stored) and a redelivery is a new event; where the provider sends no id, use `{ body_sha256: true, window: 5m }` (the same signed body is a duplicate within the window)',
    });
  }
  const fallback = value.default;
  if ((typeof fallback === 'string' && fallback.trim() !== '') || typeof fallback === 'number') {
    out.push({
      path: [...at, 'default'],
      message: `every event without ${Array.isArray(value.first) ? 'any of its alternatives' : describe(value)} gets the id ${JSON.stringify(fallback)}: ${same}`,
    });
  }
  return out;
}

/** Event ids (presets applied) that two different deliveries can share. */
export function eventIdWarnings(manifest: unknown): ManifestProblem[] {
  if (!isObject(manifest) || !isObject(manifest.integrations)) return [];
  return Object.entries(manifest.integrations).flatMap(([name, spec]) =>
    isObject(spec) && isObject(spec.event) ? idValueWarnings(spec.event.id, ['integrations', name, 'event', 'id']) : [],
  );
}
