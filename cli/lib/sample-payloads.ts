/**
 * The payloads an integration's samples carry, as its handlers read them: `samples/<integration>/<type>.json`, and its
 * provider's catalog sample for a type no file has (the same choice `switchyard send` makes). `validate` checks
 * condition and value paths against them.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readText } from './project.ts';
import { catalogText, fillSample, type CatalogSampleSpec } from './sign-sample.ts';

/** One sample's parsed payload and its event type. */
export interface SamplePayload {
  type: string;
  payload: unknown;
}

/** A fixed time and id for the placeholders: the checks read shapes and types, never these values. */
const NOW = Date.UTC(2026, 0, 1);
const ID = 'sample';

/**
 * The payload a body's text parses to, as the edge parses it: JSON, or for a form provider the fields as strings
 * (a samples/ file or catalog sample gives a form as a JSON object of its fields). Undefined when it does not parse.
 */
function parse(text: string, format: string | undefined): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return format === 'form' ? Object.fromEntries(new URLSearchParams(text)) : undefined;
  }
  if (format !== 'form' || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** An integration's sample payloads, one per event type; a file that does not parse is left out (`send` says why). */
export function samplePayloads(
  root: string,
  integration: string,
  catalog: CatalogSampleSpec | undefined,
  format: string | undefined,
): SamplePayload[] {
  const out = new Map<string, SamplePayload>();
  const dir = join(root, 'samples', integration);
  let files: string[] = [];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    // No samples/ folder for it: the catalog's sample, if any.
  }
  for (const file of files) {
    const payload = parse(fillSample(readText(join(dir, file)) ?? '', NOW, ID), format);
    if (payload !== undefined) out.set(file.slice(0, -5), { type: file.slice(0, -5), payload });
  }
  if (catalog && !out.has(catalog.type)) {
    const payload = parse(fillSample(catalogText(catalog), NOW, ID), format);
    if (payload !== undefined) out.set(catalog.type, { type: catalog.type, payload });
  }
  return [...out.values()];
}
