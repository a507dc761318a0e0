/**
 * Loading a manifest outside the Worker (CLI, build, tests): YAML with source positions, environment overlays,
 * and JSON Schema validation with Ajv. The Worker never imports this: workerd forbids Ajv's code generation,
 * so the build validates and the Worker receives plain, already-validated JSON.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Registry } from '../component/registry.ts';
import type { Manifest } from './types.gen.ts';
import { buildManifestSchema } from './schema.ts';
import type { ManifestProblem } from './problems.ts';
import { closest } from '../language/closest.ts';
import { conditionSchema, unknownOperator } from '../language/conditions.ts';

export interface SourcedProblem extends ManifestProblem {
  file: string;
  line: number;
  column: number;
  /** The source line, when the problem points at a word in it (shown with a caret under the column). */
  source?: string;
}

export interface ParsedManifest {
  file: string;
  text: string;
  doc: Document;
  lines: LineCounter;
  value: unknown;
  problems: SourcedProblem[];
}

/** Parses YAML keeping positions; syntax errors come back as problems with line:column. */
export function parseManifest(text: string, file = 'integrations.yaml'): ParsedManifest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: SourcedProblem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, path: [], message: e.message.split('\n')[0]! };
  });
  return { file, text, doc, lines, value: problems.length ? undefined : doc.toJS({ maxAliasCount: 100 }), problems };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Merges an overlay over a base: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergeOverlay(base: unknown, overlay: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) delete out[key];
    else out[key] = key in base ? mergeOverlay(base[key], value) : value;
  }
  return out;
}

/** The environments a manifest declares, besides the base (`default`). */
export function environmentsOf(value: unknown): string[] {
  return isPlainObject(value) && isPlainObject(value.environments) ? Object.keys(value.environments) : [];
}

/**
 * The manifest for one environment: the base with that environment's overlay (if it has one) merged in,
 * without `environments`.
 */
export function resolveEnvironment(value: unknown, environment: string | undefined): unknown {
  if (!isPlainObject(value)) return value;
  const { environments, ...base } = value;
  if (!environment || environment === 'default') return base;
  const overlay = isPlainObject(environments) ? environments[environment] : undefined;
  return overlay === undefined || overlay === null ? base : mergeOverlay(base, overlay);
}

/** Ajv for manifests. Built once per registry; `x-secret` is an annotation the CLI reads. */
export function createManifestValidator(registry: Registry, providers: readonly string[] = []) {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    discriminator: true,
    allowUnionTypes: true,
    verbose: true,
  });
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
  const schema = buildManifestSchema(registry, providers);
  const validate = ajv.compile(schema);
  return (value: unknown): ManifestProblem[] => (validate(value) ? [] : explainErrors(validate.errors ?? [], value));
}

function pathOf(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

/**
 * Turns Ajv's errors into one message per real mistake. For `oneOf`/`anyOf` it keeps only the branch the
 * author evidently meant (no type mismatch, fewest errors), so a misspelt field in a step reads as that,
 * not as "must match exactly one schema".
 */
export function explainErrors(errors: ErrorObject[], value: unknown): ManifestProblem[] {
  let kept = errors;
  const unions = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  for (const union of unions.sort((a, b) => b.schemaPath.length - a.schemaPath.length)) {
    const prefix = `${union.schemaPath}/`;
    const inside = kept.filter((e) => e.schemaPath.startsWith(prefix));
    if (inside.length === 0) continue;
    const byBranch = new Map<string, ErrorObject[]>();
    for (const e of inside) {
      const branch = e.schemaPath.slice(prefix.length).split('/')[0]!;
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
    }
    // A branch with no errors of its own failed only inside a `$ref` it reaches (a step's `if:` Condition), whose
    // errors Ajv paths from that definition: the author meant that branch, and those errors say what is wrong.
    const throughRef = kept.some(
      (e) => e.instancePath.startsWith(`${union.instancePath}/`) && !e.schemaPath.startsWith(prefix),
    );
    const clean =
      Array.isArray(union.schema) && (union.params as { passingSchemas?: unknown }).passingSchemas == null
        ? union.schema.findIndex((_, i) => !byBranch.has(String(i)))
        : -1;
    if (throughRef && clean >= 0) {
      kept = kept.filter((e) => e !== union && !e.schemaPath.startsWith(prefix));
      continue;
    }
    const tagged = unionTag(union.schema);
    const tagValue = tagged && isPlainObject(union.data) ? union.data[tagged.tag] : undefined;
    if (tagged && typeof tagValue === 'string' && !tagged.values.includes(tagValue)) {
      // A tagged union without Ajv's discriminator: every branch fails on its tag; name the tag, not the branches.
      kept = kept.filter((e) => e !== union && !e.schemaPath.startsWith(prefix));
      kept.push({ ...union, keyword: 'tag', params: { tag: tagged.tag, tagValue, values: tagged.values } });
      continue;
    }
    // A union told apart by which key is present (a step's `sql`, `enqueue` or `action`): a block that has exactly
    // one branch's key means that branch, so a misspelt option reads as itself, not as "expected one of the keys".
    const keyed = keyedBranch(union.schema, union.data);
    if (keyed !== undefined && byBranch.has(keyed)) {
      kept = kept.filter((e) => e !== union && (!e.schemaPath.startsWith(prefix) || byBranch.get(keyed)!.includes(e)));
      continue;
    }
    const score = (list: ErrorObject[]) =>
      list.some((e) => e.instancePath === union.instancePath && e.keyword === 'type')
        ? 1e6
        : list.some((e) => e.instancePath === union.instancePath && (e.keyword === 'required' || e.keyword === 'const'))
          ? 1e3 + list.length
          : list.length;
    const best = [...byBranch.values()].sort((a, b) => score(a) - score(b))[0]!;
    const bestScore = score(best);
    kept = kept.filter((e) => (e === union ? bestScore >= 1e6 : !e.schemaPath.startsWith(prefix) || best.includes(e)));
    if (bestScore >= 1e3 && bestScore < 1e6) {
      // No branch fits: the key that names a step, or the shape, is wrong. Say what was expected.
      kept = kept.filter((e) => !best.includes(e));
      kept.push({ ...union, keyword: 'union', message: describeUnion(union) });
    }
  }
  const seen = new Set<string>();
  const problems: ManifestProblem[] = [];
  // An `if`/`else` failure is explained by the errors inside its branch.
  for (const e of kept.filter((k) => k.keyword !== 'if')) {
    const problem = explainOne(e, value);
    const key = `${problem.path.join('/')}|${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

/** In a union whose branches each require a key of their own first, the one branch whose key the block has. */
function keyedBranch(schema: unknown, data: unknown): string | undefined {
  if (!Array.isArray(schema) || !isPlainObject(data)) return undefined;
  const keys = (schema as { required?: string[] }[]).map((b) => b?.required?.[0]);
  if (keys.some((k) => k === undefined) || new Set(keys).size !== keys.length) return undefined;
  const present = keys.flatMap((k, i) => (k! in data ? [String(i)] : []));
  return present.length === 1 ? present[0] : undefined;
}

function describeUnion(e: ErrorObject): string {
  const branches = ((e.schema as unknown[]) ?? []) as { required?: string[]; title?: string; type?: string }[];
  const keys = branches.map((b) => b.required?.[0]).filter(Boolean);
  if (keys.length === branches.length && keys.length > 0) {
    // The union is tagged by which key is present: a misspelt one is a key close to a branch's.
    const stray = Object.keys(isPlainObject(e.data) ? e.data : {})
      .filter((k) => !keys.includes(k))
      .map((k) => [k, closest(k, keys as string[])] as const)
      .find(([, guess]) => guess);
    return `expected one of the keys ${keys.join(', ')} (one per step)${stray ? `; "${stray[0]}" (did you mean "${stray[1]}"?)` : ''}`;
  }
  return `does not match any allowed form (${branches.map((b) => b.title ?? b.type ?? 'object').join(' or ')})`;
}

/**
 * The tag of a tagged union: the property each branch pins to a `const` of its own (`type`, `action`, `kind`, ...),
 * and the values it takes; undefined for a union that is not tagged.
 */
export function unionTag(branches: unknown): { tag: string; values: string[] } | undefined {
  if (!Array.isArray(branches) || branches.length === 0) return undefined;
  const properties = branches.map((b) => (isPlainObject(b) && isPlainObject(b.properties) ? b.properties : undefined));
  if (properties.some((p) => !p)) return undefined;
  for (const tag of Object.keys(properties[0]!)) {
    const values = properties.map((p) => (isPlainObject(p![tag]) ? (p![tag] as { const?: unknown }).const : undefined));
    if (values.every((v): v is string => typeof v === 'string') && new Set(values).size === values.length)
      return { tag, values };
  }
  return undefined;
}

function unknownTag(path: (string | number)[], tag: string, value: unknown, values: string[]): ManifestProblem {
  const guess = typeof value === 'string' ? closest(value, values) : undefined;
  return {
    path: [...path, tag],
    message: `unknown ${tag} ${JSON.stringify(value)}${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${values.join(', ')}`,
  };
}

function explainOne(e: ErrorObject, _value: unknown): ManifestProblem {
  const path = pathOf(e.instancePath);
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      if (parent?.title === conditionSchema.title)
        return { path: [...path, key], atKey: true, message: unknownOperator(key) };
      const known = Object.keys((parent?.properties as object) ?? {});
      const guess = closest(key, known);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : known.length ? `; allowed: ${known.join(', ')}` : ''}`,
      };
    }
    case 'required':
      return { path, message: `missing required key "${(e.params as { missingProperty: string }).missingProperty}"` };
    case 'discriminator': {
      const params = e.params as { error: string; tag: string; tagValue: unknown };
      if (params.error === 'mapping')
        return unknownTag(path, params.tag, params.tagValue, unionTag(parent?.oneOf)?.values ?? []);
      return { path: [...path, params.tag], message: `"${params.tag}" must be a string naming the adapter` };
    }
    case 'tag': {
      const params = e.params as { tag: string; tagValue: unknown; values: string[] };
      return unknownTag(path, params.tag, params.tagValue, params.values);
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      const guess =
        typeof e.data === 'string'
          ? closest(
              e.data,
              allowed.filter((v): v is string => typeof v === 'string'),
            )
          : undefined;
      const listed =
        allowed.length > 12
          ? `one of ${allowed.length} values, from ${JSON.stringify(allowed[0])} to ${JSON.stringify(allowed[allowed.length - 1])}`
          : `one of: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
      if (guess)
        return {
          path,
          message: `unknown value ${JSON.stringify(e.data)} (did you mean "${guess}"?); must be ${listed}`,
        };
      return { path, message: `must be ${listed}` };
    }
    case 'const':
      return { path, message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}` };
    case 'pattern': {
      if (parent?.['x-secret'])
        return { path, message: 'must be the NAME of an environment variable (A-Z, 0-9, _), never the secret value' };
      const description = typeof parent?.description === 'string' ? ` (${parent.description})` : '';
      return { path, message: `${JSON.stringify(e.data)} is not valid${description}` };
    }
    case 'propertyNames':
      return { path, message: `names must be lower-case letters, digits, - and _` };
    case 'type':
      return {
        path,
        message: `must be ${(e.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`,
      };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

/** The source node at a path, or the deepest ancestor that exists, with how deep the match went. */
function nodeAt(doc: Document, path: (string | number)[], atKey: boolean): { node: Node | null; depth: number } {
  let node = doc.contents as Node | null;
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown })?.value === seg);
      if (!pair) break;
      node = (atKey && i === path.length - 1 ? pair.key : pair.value) as Node | null;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg] as Node;
    } else break;
    depth++;
  }
  return { node, depth };
}

/**
 * Places problems in the source. A problem in an environment's resolved manifest points into that
 * environment's overlay when the overlay set the value, else into the base.
 */
export function locate(parsed: ParsedManifest, problems: ManifestProblem[], environment?: string): SourcedProblem[] {
  return problems.map((p) => {
    let target = nodeAt(parsed.doc, p.path, Boolean(p.atKey));
    if (environment && environment !== 'default') {
      const overlay = nodeAt(parsed.doc, ['environments', environment, ...p.path], Boolean(p.atKey));
      if (overlay.depth - 2 >= target.depth && overlay.depth > 2) target = overlay;
    }
    const [start = 0, end = start] = target.node?.range ?? [];
    const found = p.word ? wordIn(parsed.text.slice(start, end), p.word) : -1;
    const pos = parsed.lines.linePos(found >= 0 ? start + found : start);
    const source = found >= 0 ? parsed.text.split('\n')[pos.line - 1] : undefined;
    return { ...p, file: parsed.file, line: pos.line, column: pos.col, ...(source !== undefined ? { source } : {}) };
  });
}

/** Where `word` first stands on its own in `text` (not inside a longer name), or -1. */
function wordIn(text: string, word: string): number {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`).exec(text)?.index ?? -1;
}

export type { Manifest };
