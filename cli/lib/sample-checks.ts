/**
 * `validate` against an integration's samples: each payload path that a handler's conditions, derived values and step
 * values read must be in a sample of the event types the handler matches, and a condition compares a path with a
 * constant of the sample's type.
 * - Error: a path in none of the samples whose first missing key is close to a key its object has in one
 *   (`data.object.mod`: did you mean `data.object.mode`?), and a comparison that no sample's value can meet (`eq: "1999"`
 *   where the sample has the number 1999).
 * - Warning: such a near miss under an open map (`metadata`, whose keys are the sender's own).
 * - Nothing: a key close to none (an optional field the sample lacks), a missing parent, or no sample for the types.
 * `@envelope` paths are typed without samples; `$name` paths are the compiler's (an unknown name fails there).
 */
import { closest } from '../../runtime/language/closest.ts';
import {
  compileCondition,
  conditionPaths,
  type ConditionPath,
  type ConditionSpec,
} from '../../runtime/language/conditions.ts';
import { compilePattern } from '../../runtime/manifest/compile.ts';
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';
import { compilePath, type CompiledPath } from '../../runtime/language/values.ts';
import type { SamplePayload } from './sample-payloads.ts';
import { comparisonProblems } from './sample-types.ts';
import { walkWithSchema, type Schema } from './schema-walk.ts';

type At = (string | number)[];
type Segment = string | number;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A map whose keys are the sender's own (Stripe's `metadata`, Supabase's `raw_user_meta_data`): a sample shows some. */
const OPEN_MAP = /(^|_)meta_?data$/i;
/** What an `@envelope` field holds: strings, two of them ISO-8601 dates. */
const ENVELOPE: Record<string, unknown> = {
  id: 'evt',
  type: 'type',
  integration: 'integration',
  occurred_at: '2026-01-01T00:00:00.000Z',
  received_at: '2026-01-01T00:00:00.000Z',
};

/** Where a path was looked for, for messages: `the stripe sample` and the types it covers. */
interface Where {
  /** `the stripe sample`, `the items of data.email_addresses in the clerk sample`. */
  name: string;
  /** ` for checkout.session.completed`. */
  types: string;
}

/** Where a path is read from: each payload (a sample's, or an item of a list in one) it must be found in. */
interface Scope {
  nodes: unknown[];
  where: Where;
}

/** A path read by the manifest: the node it is written at, the word to point at, and what a condition compares. */
interface PathUse {
  path: string;
  at: At;
  word?: string;
  within: string[];
  compared: ConditionPath['compared'];
}

type Lookup = { found: true; value: unknown } | { found: false; index: number; guess?: string; openMap?: string };

/** Follows a path's segments in one payload; where it stops, the key the missing one is close to (if any). */
function lookup(payload: unknown, segments: Segment[]): Lookup {
  let node = payload;
  let openMap: string | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (isObject(node) && typeof segment === 'string') {
      if (!Object.hasOwn(node, segment)) {
        const guess = closest(segment, Object.keys(node));
        return { found: false, index: i, ...(guess ? { guess } : {}), ...(openMap ? { openMap } : {}) };
      }
      if (OPEN_MAP.test(segment)) openMap = segment;
      node = node[segment];
    } else if (Array.isArray(node) && typeof segment === 'number' && segment < node.length) {
      node = node[segment];
    } else return { found: false, index: i };
  }
  return { found: true, value: node };
}

const render = (segments: Segment[]) =>
  segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

/** Checks one path against the payloads of its scope; returns the values it has there (for the type checks). */
function checkPath(
  use: PathUse,
  compiled: CompiledPath,
  scope: Scope,
  problems: ManifestProblem[],
  warnings: ManifestProblem[],
): unknown[] {
  const results = scope.nodes.map((node) => lookup(node, compiled.segments));
  const found = results.flatMap((r) => (r.found ? [r.value] : []));
  if (found.length || !results.length) return found;
  const miss = results.find((r): r is Extract<Lookup, { found: false }> => !r.found && r.guess !== undefined);
  if (!miss) return [];
  const suggestion = render([
    ...compiled.segments.slice(0, miss.index),
    miss.guess!,
    ...compiled.segments.slice(miss.index + 1),
  ]);
  const message = `${use.path} is not in ${scope.where.name}${scope.where.types} (did you mean ${suggestion}?)`;
  const problem = { path: use.at, message, ...(use.word ? { word: use.word } : {}) };
  if (miss.openMap)
    warnings.push({
      ...problem,
      message: `${message}; ${miss.openMap} holds the sender's own keys, so the sample may not show them all`,
    });
  else problems.push(problem);
  return [];
}

/** The items of the lists a path is read within (`some`/`every`), in every payload of the scope. */
function within(scope: Scope, lists: string[]): Scope {
  let nodes = scope.nodes;
  for (const list of lists) {
    const path = parsed(list);
    if (!path || path.envelope || path.let !== undefined) return { ...scope, nodes: [] };
    nodes = nodes.flatMap((node) => {
      const r = lookup(node, path.segments);
      return r.found && Array.isArray(r.value) ? r.value : [];
    });
  }
  return {
    nodes,
    where: { name: `the items of ${lists[lists.length - 1]} in ${scope.where.name}`, types: scope.where.types },
  };
}

function parsed(path: string): CompiledPath | undefined {
  try {
    return compilePath(path);
  } catch {
    return undefined;
  }
}

/** Checks the paths a manifest node reads in a scope. */
function checkUses(uses: PathUse[], scope: Scope, problems: ManifestProblem[], warnings: ManifestProblem[]): void {
  for (const use of uses) {
    const compiled = parsed(use.path);
    if (!compiled || compiled.let !== undefined) continue;
    if (compiled.envelope) {
      const field = String(compiled.segments[0]);
      if (field in ENVELOPE)
        problems.push(...comparisonProblems(use.path, use.at, use.compared, [ENVELOPE[field]], 'the envelope'));
      continue;
    }
    const inner = use.within.length ? within(scope, use.within) : scope;
    const values = checkPath(use, compiled, inner, problems, warnings);
    problems.push(...comparisonProblems(use.path, use.at, use.compared, values, inner.where.name));
  }
}

/** The paths a condition reads, where it compiles (a condition that does not is the compiler's to report). */
function conditionUses(spec: unknown, at: At): PathUse[] {
  try {
    compileCondition(spec as ConditionSpec);
  } catch {
    return [];
  }
  return conditionPaths(spec).map((p) => ({
    path: p.path,
    at: [...at, ...p.at],
    word: p.path,
    within: p.within,
    compared: p.compared,
  }));
}

/** The paths a `Value` reads: itself as a path, its `path`, its template's placeholders, `first`, money's currency. */
function valueUses(value: unknown, at: At): PathUse[] {
  const use = (path: string, where: At): PathUse => ({ path, at: where, word: path, within: [], compared: [] });
  if (typeof value === 'string') return [use(value, at)];
  if (!isObject(value)) return [];
  const out: PathUse[] = [];
  if (typeof value.path === 'string') out.push(use(value.path, [...at, 'path']));
  if (typeof value.template === 'string')
    for (const m of value.template.matchAll(/\{([^{}]+)\}/g)) out.push(use(m[1]!.trim(), [...at, 'template']));
  if (Array.isArray(value.first))
    value.first.forEach((alternative, i) => out.push(...valueUses(alternative, [...at, 'first', i])));
  const transforms = Array.isArray(value.transform)
    ? value.transform.map((t, i) => [t, [...at, 'transform', i]] as const)
    : [[value.transform, [...at, 'transform']] as const];
  for (const [t, where] of transforms) {
    if (!isObject(t)) continue;
    for (const name of ['money', 'decimal']) if (name in t) out.push(...valueUses(t[name], [...where, name]));
  }
  return out;
}

/** Every `Value` in the manifest, by the schema (`#/definitions/Value`), wherever an adapter takes one. */
function valuesOf(schema: Schema, manifest: unknown): { at: At; value: unknown }[] {
  const out: { at: At; value: unknown }[] = [];
  walkWithSchema(schema, manifest, (_s, raw, value, at) => {
    if (raw.$ref !== '#/definitions/Value') return false;
    out.push({ at, value });
    return true;
  });
  return out;
}

const scopeOf = (integration: string, samples: SamplePayload[]): Scope => {
  const types = [...new Set(samples.map((s) => s.type))].sort();
  return {
    nodes: samples.map((s) => s.payload),
    where: { name: `the ${integration} sample${types.length > 1 ? 's' : ''}`, types: ` for ${types.join(', ')}` },
  };
};

/**
 * The problems (errors) and warnings of the integrations' conditions and values against their samples.
 * `samplesOf` gives an integration's sample payloads (none: only the `@envelope` types are checked).
 */
export function samplePathChecks(
  manifest: unknown,
  schema: Schema,
  samplesOf: (integration: string) => SamplePayload[],
): { problems: ManifestProblem[]; warnings: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const warnings: ManifestProblem[] = [];
  if (!isObject(manifest) || !isObject(manifest.integrations)) return { problems, warnings };
  const values = valuesOf(schema, { integrations: manifest.integrations });
  for (const [name, spec] of Object.entries(manifest.integrations)) {
    if (!isObject(spec)) continue;
    const samples = samplesOf(name);
    const under = (prefix: At) =>
      values.filter((v) => prefix.every((p, i) => v.at[i] === p)).flatMap((v) => valueUses(v.value, v.at));
    checkUses(under(['integrations', name, 'let']), scopeOf(name, samples), problems, warnings);
    (Array.isArray(spec.handlers) ? spec.handlers : []).forEach((handler: unknown, h) => {
      if (!isObject(handler)) return;
      const patterns = (Array.isArray(handler.on) ? handler.on : [handler.on]).filter(
        (p): p is string => typeof p === 'string',
      );
      const matches = patterns.map((p) => {
        const pattern = p.includes('*') ? compilePattern(p) : undefined;
        return (t: string) => (pattern ? pattern.test(t) : t === p);
      });
      const scope = scopeOf(
        name,
        samples.filter((s) => matches.some((m) => m(s.type))),
      );
      const at = ['integrations', name, 'handlers', h];
      const uses = [...conditionUses(handler.if, [...at, 'if']), ...under(at)];
      (Array.isArray(handler.steps) ? handler.steps : []).forEach((step: unknown, s) => {
        if (isObject(step) && step.if !== undefined) uses.push(...conditionUses(step.if, [...at, 'steps', s, 'if']));
      });
      checkUses(uses, scope, problems, warnings);
    });
  }
  return { problems, warnings };
}
