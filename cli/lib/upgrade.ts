/**
 * Manifest versions. `version:` says which language a manifest is written in; each form a later version changed is
 * one rule here. `validate` reads an older manifest through the rules (a warning per old form, naming the new one),
 * refuses an old form in a manifest that declares the version without it (an error naming the fix), and
 * `switchyard upgrade` rewrites the file: only the changed words are edited in the text (located with the `yaml`
 * Document API), so comments, quoting and layout stay as they were.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { MANIFEST_VERSION } from '../../runtime/manifest/schema.ts';
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';

type Path = (string | number)[];

/** A key a version renamed, in the objects `holders` finds (base and environment overlays alike). */
export interface RenameRule {
  /** The first version without the old key. */
  since: number;
  from: string;
  to: string;
  /** Why it changed, in a few words (shown with the fix). */
  why: string;
  /** Paths of the objects that may hold the key. */
  holders(manifest: Record<string, unknown>): Path[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown) => (isObject(v) ? Object.entries(v) : []);

/** The manifest's routes, in the base and in each environment's overlay, with where they are. */
function routes(manifest: Record<string, unknown>): [Path, Record<string, unknown>][] {
  const base = entries(manifest.routes).map(([name, r]): [Path, unknown] => [['routes', name], r]);
  const overlays = entries(manifest.environments).flatMap(([env, o]) =>
    entries(isObject(o) ? o.routes : undefined).map(([name, r]): [Path, unknown] => [
      ['environments', env, 'routes', name],
      r,
    ]),
  );
  return [...base, ...overlays].filter((e): e is [Path, Record<string, unknown>] => isObject(e[1]));
}

/** Every rule, oldest first. */
export const RULES: readonly RenameRule[] = [
  {
    since: 2,
    from: 'backup_bucket',
    to: 'backup_binding',
    why: 'it names the R2 binding from wrangler.toml, not the bucket',
    holders: (manifest) => {
      const baseType = (name: unknown) =>
        (manifest.routes as Record<string, { endpoint?: { type?: unknown } }> | undefined)?.[String(name)]?.endpoint
          ?.type;
      return routes(manifest).flatMap(([path, route]) => {
        const endpoint = route.endpoint;
        const type = isObject(endpoint) ? (endpoint.type ?? baseType(path[path.length - 1])) : undefined;
        return type === 'cloudinary-upload' ? [[...path, 'endpoint']] : [];
      });
    },
  },
];

/** One old form found in a manifest. */
export interface OldForm {
  rule: RenameRule;
  /** The old key's path. */
  path: Path;
}

/** The version a manifest declares (1 when it says none it can be read as). */
export function declaredVersion(value: unknown): number | undefined {
  const version = isObject(value) ? value.version : undefined;
  return typeof version === 'number' && Number.isInteger(version) ? version : undefined;
}

/** The old forms in a manifest (a parsed value), in document order of the rules. */
export function oldForms(value: unknown): OldForm[] {
  if (!isObject(value)) return [];
  return RULES.flatMap((rule) =>
    rule.holders(value).flatMap((at) => {
      const holder = at.reduce<unknown>((v, k) => (isObject(v) ? v[k as string] : undefined), value);
      return isObject(holder) && rule.from in holder ? [{ rule, path: [...at, rule.from] }] : [];
    }),
  );
}

/** The manifest as the current language writes it (old keys renamed, `version` current), and what changed. */
export function upgradeValue(value: unknown): { value: unknown; forms: OldForm[] } {
  const forms = oldForms(value);
  if (!isObject(value)) return { value, forms };
  const copy = structuredClone(value);
  for (const { rule, path } of forms) {
    const holder = path
      .slice(0, -1)
      .reduce<Record<string, unknown>>((v, k) => v[k as string] as Record<string, unknown>, copy);
    // Rebuilt so the new key keeps the old one's place among its siblings.
    const rebuilt = Object.fromEntries(Object.entries(holder).map(([k, v]) => [k === rule.from ? rule.to : k, v]));
    for (const k of Object.keys(holder)) delete holder[k];
    Object.assign(holder, rebuilt);
  }
  // A version out of range is versionProblems' to report, once: the schema sees the current one.
  if (declaredVersion(copy) !== undefined) copy.version = MANIFEST_VERSION;
  return { value: copy, forms };
}

/**
 * What `validate` says about a manifest's version and old forms. An older manifest's old forms are warnings (it is
 * read through the rules); in a manifest that declares a version without them, each is an error with the fix.
 */
export function versionProblems(value: unknown): { problems: ManifestProblem[]; warnings: ManifestProblem[] } {
  const declared = declaredVersion(value);
  const problems: ManifestProblem[] = [];
  const warnings: ManifestProblem[] = [];
  if (declared !== undefined && declared > MANIFEST_VERSION) {
    problems.push({
      path: ['version'],
      message: `this manifest is written for manifest version ${declared}, and this switchyard reads up to version ${MANIFEST_VERSION}: update switchyard`,
    });
  } else if (declared !== undefined && declared < 1) {
    problems.push({
      path: ['version'],
      message: `there is no manifest version ${declared}: write version: ${MANIFEST_VERSION}`,
    });
  }
  for (const { rule, path } of oldForms(value)) {
    const older = declared !== undefined && declared < rule.since;
    const fix = `write ${rule.to}: instead (${rule.why}); \`switchyard upgrade --write\` rewrites it`;
    (older ? warnings : problems).push({
      path,
      atKey: true,
      word: rule.from,
      message: older
        ? `${rule.from} is ${rule.to} from manifest version ${rule.since}: this version ${declared} manifest is read as before; ${fix}`
        : `${rule.from} was renamed ${rule.to} in manifest version ${rule.since}: ${fix}`,
    });
  }
  return { problems, warnings };
}

/** A text edit: replace [start, end) with `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The node at a path in a YAML document (maps by key, sequences by index). */
function nodeAt(doc: Document, path: Path): Node | undefined {
  return doc.getIn(path, true) as Node | undefined;
}

/**
 * The manifest text rewritten in the current language: each old key's word replaced where it stands, and `version`
 * set to the current one. Comments, quotes and layout are untouched. `changes` says what was done, for the report.
 */
export function upgradeText(text: string): { text: string; changes: string[] } {
  const doc = parseDocument(text, { lineCounter: new LineCounter(), keepSourceTokens: true });
  if (doc.errors.length) throw new Error(doc.errors[0]!.message.split('\n')[0]);
  const value = doc.toJS() as unknown;
  const edits: Edit[] = [];
  const changes: string[] = [];
  for (const { rule, path } of oldForms(value)) {
    const holder = nodeAt(doc, path.slice(0, -1));
    if (!isMap(holder)) continue;
    const pair = holder.items.find((p) => isScalar(p.key) && p.key.value === rule.from);
    const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (!range) continue;
    const written = text.slice(range[0], range[1]);
    edits.push({ start: range[0], end: range[1], text: written.replace(rule.from, rule.to) });
    changes.push(`${path.join('.')} -> ${rule.to}`);
  }
  const declared = declaredVersion(value);
  const version = doc.get('version', true);
  if (declared !== undefined && declared < MANIFEST_VERSION && isScalar(version) && version.range) {
    edits.push({ start: version.range[0], end: version.range[1], text: String(MANIFEST_VERSION) });
    changes.push(`version ${declared} -> ${MANIFEST_VERSION}`);
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { text: out, changes };
}

/**
 * A unified diff of two texts (three lines of context), for `switchyard upgrade` without --write.
 * @example unifiedDiff('a\nb\n', 'a\nc\n', 'integrations.yaml')
 */
export function unifiedDiff(before: string, after: string, file: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  // Longest common subsequence, by suffix lengths.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { op: ' ' | '-' | '+'; line: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ op: ' ', line: a[i]!, ai: i++, bi: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ op: '-', line: a[i]!, ai: i++, bi: j });
    else ops.push({ op: '+', line: b[j]!, ai: i, bi: j++ });
  }
  const changed = ops.map((o, k) => (o.op !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (!changed.length) return '';
  const out = [`--- a/${file}`, `+++ b/${file}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - 3);
    let end = changed[k]! + 3;
    while (k + 1 < changed.length && changed[k + 1]! - 3 <= end + 1) end = changed[++k]! + 3;
    k++;
    const hunk = ops.slice(start, Math.min(ops.length, end + 1));
    const aLines = hunk.filter((o) => o.op !== '+').length;
    const bLines = hunk.filter((o) => o.op !== '-').length;
    out.push(
      `@@ -${hunk[0]!.ai + 1},${aLines} +${hunk[0]!.bi + 1},${bLines} @@`,
      ...hunk.map((o) => `${o.op}${o.line}`),
    );
  }
  return `${out.join('\n')}\n`;
}
