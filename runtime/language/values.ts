/**
 * Value expressions: how the manifest takes a value out of an event, with no user code and no eval.
 * A value is a path string (`data.items[0].price.id`) or an object with one source
 * (`path`, `template`, `first`, `const`, `now`, `header`, `body_sha256`, `env`), an optional `transform` list, an
 * optional `map` (a lookup from the value to another) and an optional `default`. In event extraction a template is
 * strict: it is missing unless every placeholder is present.
 * Paths read the payload (`[0].id` when it is an array); `@id`, `@type`, `@integration`, `@occurred_at`,
 * `@received_at` and `@version` (for ordering guards: see eventVersion) read the envelope; `$name` reads a derived
 * value the manifest names in a `let:` (computed once per event, on its first read).
 */
import type { Value } from '../manifest/types.gen.ts';
import { DURATION_PATTERN, parseDuration } from '../lib/duration.ts';
import { closest } from './closest.ts';

export const PATH_PATTERN =
  '^(@[a-z_]+|[A-Za-z0-9_$-]+(\\[[0-9]+\\])*|(\\[[0-9]+\\])+)(\\.[A-Za-z0-9_$-]+(\\[[0-9]+\\])*)*$';

export const TRANSFORMS = {
  trim: (v: unknown) => String(v).trim(),
  unix_seconds_to_iso: (v: unknown) => isoFromEpoch(v, 1000),
  unix_ms_to_iso: (v: unknown) => isoFromEpoch(v, 1),
  iso: (v: unknown) => {
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new MappingError(`${JSON.stringify(v)} is not a date`, 'is not a date');
    return d.toISOString();
  },
  json: (v: unknown) => JSON.stringify(v ?? null),
  lower: (v: unknown) => String(v).toLowerCase(),
  upper: (v: unknown) => String(v).toUpperCase(),
  string: (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v)),
  number: (v: unknown) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new MappingError(`${JSON.stringify(v)} is not a number`, 'is not a number');
    return n;
  },
} as const satisfies Record<string, (v: unknown) => unknown>;

export type TransformName = keyof typeof TRANSFORMS;

/**
 * Transforms that take an argument, written `{ name: argument }` in a `transform` list. `money` formats an amount in
 * the currency's minor units (Stripe's `1999` with `usd` → `$19.99`) with Intl, which knows each currency's digits.
 */
export const PARAMETERIZED = {
  money: {
    schema: { $ref: '#/definitions/Value' },
    description:
      'An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.',
  },
  decimal: {
    schema: { $ref: '#/definitions/Value' },
    description:
      'An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.',
  },
  divide: { schema: { type: 'number', exclusiveMinimum: 0 }, description: 'Divides a number: `{ divide: 100 }`.' },
  multiply: { schema: { type: 'number' }, description: 'Multiplies a number.' },
  join: {
    schema: { type: 'string' },
    description: 'Joins a list into one string with this separator (missing and null items are left out).',
  },
  split: { schema: { type: 'string', minLength: 1 }, description: 'Splits a string into a list at this separator.' },
  add: {
    schema: { type: 'string', pattern: DURATION_PATTERN },
    description: 'Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.',
  },
  subtract: {
    schema: { type: 'string', pattern: DURATION_PATTERN },
    description: 'Subtracts a duration from a date: ISO-8601.',
  },
  find: {
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['where', 'equals'],
      properties: {
        where: {
          type: 'string',
          pattern: PATH_PATTERN,
          description: 'A path into each item (`id`, `verification.status`).',
        },
        equals: {
          $ref: '#/definitions/Value',
          description:
            'What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.',
        },
      },
    },
    description:
      'The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.',
  },
  format_date: {
    schema: { type: 'string', minLength: 1 },
    description:
      'Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.',
  },
} as const;

type ParameterizedName = keyof typeof PARAMETERIZED;
type TransformStep = (value: unknown, ctx: ValueContext) => unknown;

/** One transform of a `transform:` list: a name, or `{ name: argument }`. */
const transformSchema = {
  anyOf: [
    { enum: Object.keys(TRANSFORMS) },
    // One closed object (exactly one key), so a misspelt name is an unknown key with the name meant.
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: Object.fromEntries(
        Object.entries(PARAMETERIZED).map(([name, p]) => [name, { ...p.schema, description: p.description }]),
      ),
    },
  ],
};

export const valueSchema = {
  title: 'Value',
  description: 'A path into the event (`data.object.id`), or an object with one source and optional transforms.',
  anyOf: [
    { type: 'string', pattern: PATH_PATTERN },
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        path: { type: 'string', pattern: PATH_PATTERN, description: 'Read this path.' },
        template: {
          type: 'string',
          description:
            'A string with `{path}` placeholders. In event extraction (id, type, occurred_at) every placeholder must be a non-empty string, a number or a boolean, or the template is missing (then `default`, the next of `first`, or 400 unmappable_event); in handler steps a missing placeholder renders empty.',
        },
        first: {
          type: 'array',
          items: { $ref: '#/definitions/Value' },
          minItems: 1,
          description:
            'The first of these values that is present (each with its own transforms and default), e.g. one id per kind of callback.',
        },
        const: { tsType: 'unknown', description: 'This constant value.' },
        now: { const: true, description: 'The current time as ISO-8601.' },
        header: { type: 'string', description: 'A request header (event extraction only).' },
        body_sha256: {
          const: true,
          description:
            'The hex SHA-256 of the request body (event extraction only): an id for providers whose deliveries carry none, so a redelivered body is deduplicated.',
        },
        window: {
          type: 'string',
          pattern: DURATION_PATTERN,
          description:
            'With `body_sha256` as the event id: the same body is a duplicate only within this window and a new event after it (the stored id is `<hash>@<arrival>`), for providers that send the same body again for a new change.',
        },
        env: {
          type: 'string',
          pattern: '^[A-Z][A-Z0-9_]*$',
          description: 'A Worker variable (wrangler.toml [vars]), e.g. ADMIN_EMAIL; not in event extraction.',
        },
        transform: {
          // Inline, not a $ref: validate's union explanation then names a misspelt transform alone.
          anyOf: [transformSchema, { type: 'array', items: transformSchema, minItems: 1 }],
          description: 'Transforms applied in order.',
        },
        map: {
          type: 'object',
          minProperties: 1,
          additionalProperties: { tsType: 'unknown' },
          description:
            'After the transforms, the value is looked up here (a number or boolean by its text, e.g. `"2"`) and replaced by what the key maps to: any JSON value. A value that is not a key takes `default`, or is a mapping error.',
        },
        default: {
          tsType: 'unknown',
          description:
            'Used when the source is missing or null, or (with `map`) when the value is not a key of the map.',
        },
      },
    },
  ],
} as const;

/** Where a value is taken in the schema: the one `Value` definition (so the generated types say `Value`). */
export const valueRef = { $ref: '#/definitions/Value' } as const;

/** A mapped value could not be produced: the event does not have what the manifest expects. Permanent. */
export class MappingError extends Error {
  override name = 'MappingError';
  /** The same problem without the event's values (which may be personal data), for logs. */
  readonly logText: string;
  constructor(message: string, logText: string = message) {
    super(message);
    this.logText = logText;
  }
}

export interface ValueContext {
  payload: unknown;
  /** Reads a derived value (`$name`) named by a `let:` in scope; computed once per event. */
  lets?: (name: string) => unknown;
  envelope?: Record<string, unknown>;
  headers?: Headers;
  /** The hex SHA-256 of the request body's text (event extraction, when a value asks for it). */
  bodySha256?: string;
  env?: Readonly<Record<string, unknown>>;
  now?: () => string;
}

export type ValueFn = (ctx: ValueContext) => unknown;

type Segment = string | number;
/** A path parsed once (`a.b[0]`, `@id`); read with readPath. */
export interface CompiledPath {
  envelope: boolean;
  /** The `let:` name the path starts at (`$total.amount` → total); its segments follow that value. */
  let?: string;
  segments: Segment[];
  text: string;
}

const isNameChar = (c: string) =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '$' || c === '-';
const isEnvelopeChar = (c: string) => (c >= 'a' && c <= 'z') || c === '_';
const isDigit = (c: string) => c >= '0' && c <= '9';

/**
 * Parses a path once, at compile time. Throws on a malformed path. It reads PATH_PATTERN's grammar by hand: a
 * regular expression would cost a new isolate's first request its compile.
 */
export function compilePath(text: string): CompiledPath {
  const envelope = text.startsWith('@');
  const segments: Segment[] = [];
  let i = envelope ? 1 : 0;
  const run = (accepts: (c: string) => boolean) => {
    const start = i;
    while (i < text.length && accepts(text[i]!)) i++;
    return text.slice(start, i);
  };
  // `[n]` steps after a name; -1 when one is malformed.
  const indexes = () => {
    let count = 0;
    for (; text[i] === '['; count++) {
      i++;
      const digits = run(isDigit);
      if (!digits || text[i] !== ']') return -1;
      i++;
      segments.push(Number(digits));
    }
    return count;
  };
  const head = run(envelope ? isEnvelopeChar : isNameChar);
  if (head) segments.push(head);
  let ok = head !== '';
  if (!envelope) {
    const n = indexes();
    ok = n >= 0 && (ok || n > 0);
  }
  while (ok && i < text.length) {
    const name = text[i++] === '.' ? run(isNameChar) : '';
    if (name) segments.push(name);
    ok = name !== '' && indexes() >= 0;
  }
  if (!ok) throw new Error(`malformed path ${JSON.stringify(text)}`);
  if (!envelope && typeof segments[0] === 'string' && segments[0].startsWith('$') && segments[0].length > 1) {
    return { envelope, let: segments[0].slice(1), segments: segments.slice(1), text };
  }
  return { envelope, segments, text };
}

/** A path into the JSON body only (a verifier's or handshake's field): the path syntax without `@envelope` fields. */
export const BODY_PATH_PATTERN = PATH_PATTERN.replace('@[a-z_]+|', '');

/** Compiles a path into the body; an `@envelope` field is refused (a verifier runs before there is an envelope). */
export function compileBodyPath(text: string): CompiledPath {
  const path = compilePath(text);
  if (path.envelope) throw new Error(`${JSON.stringify(text)} names an envelope field; give a path into the JSON body`);
  // A body path reads `$`-keys as they are (a verifier's field is never a derived value).
  return path.let === undefined ? path : { envelope: false, segments: [`$${path.let}`, ...path.segments], text };
}

/** Reads a compiled path; undefined when any step is missing. */
export function readPath(path: CompiledPath, ctx: ValueContext): unknown {
  let node: unknown = path.let !== undefined ? ctx.lets?.(path.let) : path.envelope ? ctx.envelope : ctx.payload;
  for (const segment of path.segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

const ENVELOPE_FIELDS = new Set(['id', 'type', 'integration', 'occurred_at', 'received_at', 'version']);

/** Options for compiling values: which sources a context allows. */
export interface CompileValueOptions {
  /** Event extraction: headers and the body's hash may be read, and templates are strict. */
  allowHeaders?: boolean;
  allowEnvelope?: boolean;
  /** The event id: `body_sha256` may take a `window`. */
  allowWindow?: boolean;
}

type ValueObject = Exclude<Value, string>;
type SourceName = 'path' | 'template' | 'first' | 'const' | 'now' | 'header' | 'body_sha256' | 'env';
const SOURCE_NAMES: readonly SourceName[] = [
  'path',
  'template',
  'first',
  'const',
  'now',
  'header',
  'body_sha256',
  'env',
];

/** Throws for an `@envelope` path whose field the envelope does not have, with the nearest one. */
export function checkEnvelopeField(p: CompiledPath): void {
  const field = String(p.segments[0]);
  if (!p.envelope || ENVELOPE_FIELDS.has(field)) return;
  const guess = closest(field, [...ENVELOPE_FIELDS]);
  throw new Error(
    `unknown envelope field ${p.text}${guess ? ` (did you mean "@${guess}"?)` : ''}; known: ${[...ENVELOPE_FIELDS].map((f) => `@${f}`).join(', ')}`,
  );
}

/** A path a value reads: an `@envelope` field only where the options allow one, and only a known field. */
function checkedPath(p: CompiledPath, options: CompileValueOptions): CompiledPath {
  if (!p.envelope) return p;
  if (!options.allowEnvelope) throw new Error(`envelope path ${p.text} is not available here`);
  checkEnvelopeField(p);
  return p;
}

/**
 * Each kind of source: how it reads a value, and how a problem names it. One function per kind, so a new isolate
 * compiles only the kinds its manifest's first request uses (most are paths).
 */
const SOURCES: Record<SourceName, (object: ValueObject, options: CompileValueOptions) => [ValueFn, string]> = {
  path: (object, options) => {
    const path = checkedPath(compilePath(object.path!), options);
    return [(ctx) => readPath(path, ctx), `path ${path.text}`];
  },
  template: (object, options) => [
    compileTemplate(object.template!, (p) => checkedPath(p, options), options.allowHeaders === true),
    `template ${JSON.stringify(object.template)}`,
  ],
  first: (object, options) => {
    const { allowWindow: _window, ...inner } = options;
    const alternatives = object.first!.map((spec) => compileOptional(spec, inner));
    return [
      (ctx) => {
        for (const alternative of alternatives) {
          const value = alternative.read(ctx);
          if (value !== undefined) return value;
        }
        return undefined;
      },
      `first of (${alternatives.map((a) => a.describe).join(', ')})`,
    ];
  },
  header: (object, options) => {
    if (!options.allowHeaders) throw new Error('`header` values are only available in event extraction');
    const name = object.header!.toLowerCase();
    return [(ctx) => ctx.headers?.get(name) ?? undefined, `header ${name}`];
  },
  body_sha256: (object, options) => {
    if (!options.allowHeaders) throw new Error('`body_sha256` is only available in event extraction');
    if (object.window === undefined) return [(ctx) => ctx.bodySha256, 'body_sha256'];
    // Unique per arrival: the same body within the window is refused by the claim's same-body check instead.
    return [
      (ctx) => ctx.bodySha256 && `${ctx.bodySha256}@${ctx.now ? ctx.now() : new Date().toISOString()}`,
      'body_sha256',
    ];
  },
  env: (object, options) => {
    if (!options.allowEnvelope) throw new Error('`env` values are only available in handler steps');
    const name = object.env!;
    return [(ctx) => ctx.env?.[name], `env ${name}`];
  },
  now: () => [(ctx) => (ctx.now ? ctx.now() : new Date().toISOString()), 'now'],
  const: (object) => {
    const constant = object.const;
    return [() => constant, 'const'];
  },
};

type TransformSpec = NonNullable<ValueObject['transform']>;

/** The transforms a value names, in order; an unknown name is a compile problem. */
function transformsOf(names: TransformSpec | undefined, options: CompileValueOptions): TransformStep[] {
  if (names === undefined) return [];
  return (Array.isArray(names) ? names : [names]).map((item): TransformStep => {
    if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item);
      const [name, argument] = entries[0] ?? [];
      if (entries.length !== 1 || !(name! in PARAMETERIZED))
        throw new Error(`a transform object has one key, one of ${Object.keys(PARAMETERIZED).join(', ')}`);
      return parameterized(name as ParameterizedName, argument, options);
    }
    const fn = TRANSFORMS[item as TransformName];
    if (!fn)
      throw new Error(
        `unknown transform ${JSON.stringify(item)}; known: ${[...Object.keys(TRANSFORMS), ...Object.keys(PARAMETERIZED)].join(', ')}`,
      );
    return fn;
  });
}

const number = (v: unknown, what = 'a number'): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new MappingError(`${JSON.stringify(v)} is not ${what}`, `is not ${what}`);
  return n;
};

const dateOf = (v: unknown): Date => {
  const d = typeof v === 'number' ? new Date(v) : new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new MappingError(`${JSON.stringify(v)} is not a date`, 'is not a date');
  return d;
};

/** A currency code's formatter and its minor-unit digits (USD 2, JPY 0, KWD 3), once per code per isolate. */
const currencies = new Map<string, { format: Intl.NumberFormat; digits: number }>();
function currency(code: unknown): { format: Intl.NumberFormat; digits: number } {
  const key = typeof code === 'string' ? code.trim().toUpperCase() : '';
  let known = currencies.get(key);
  if (!known) {
    let format: Intl.NumberFormat;
    try {
      if (!/^[A-Z]{3}$/.test(key)) throw new RangeError(key);
      format = new Intl.NumberFormat('en-US', { style: 'currency', currency: key });
    } catch {
      throw new MappingError(`${JSON.stringify(code)} is not a currency code`, 'is not a currency code');
    }
    known = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    if (currencies.size < 200) currencies.set(key, known);
  }
  return known;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats a date in UTC with YYYY MM DD HH mm ss MMM MMMM D; other characters are kept. */
function formatDate(d: Date, pattern: string): string {
  const tokens: Record<string, () => string> = {
    YYYY: () => String(d.getUTCFullYear()),
    MMMM: () => MONTHS[d.getUTCMonth()]!,
    MMM: () => MONTHS[d.getUTCMonth()]!.slice(0, 3),
    MM: () => pad(d.getUTCMonth() + 1),
    DD: () => pad(d.getUTCDate()),
    D: () => String(d.getUTCDate()),
    HH: () => pad(d.getUTCHours()),
    mm: () => pad(d.getUTCMinutes()),
    ss: () => pad(d.getUTCSeconds()),
  };
  return pattern.replace(/YYYY|MMMM|MMM|MM|DD|D|HH|mm|ss/g, (t) => tokens[t]!());
}

function parameterized(name: ParameterizedName, argument: unknown, options: CompileValueOptions): TransformStep {
  switch (name) {
    case 'money':
    case 'decimal': {
      const code = compileValue(argument as Value, options);
      return (v, ctx) => {
        const { format, digits } = currency(code(ctx));
        const amount = number(v, 'an amount') / 10 ** digits;
        return name === 'money' ? format.format(amount) : amount;
      };
    }
    case 'divide':
      return (v) => number(v) / (argument as number);
    case 'multiply':
      return (v) => number(v) * (argument as number);
    case 'join':
      return (v) => {
        if (!Array.isArray(v)) throw new MappingError('is not a list', 'is not a list');
        return v
          .filter((x) => x !== undefined && x !== null)
          .map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
          .join(argument as string);
      };
    case 'split':
      return (v) => String(v).split(argument as string);
    case 'add':
    case 'subtract': {
      const ms = parseDuration(argument as string) * (name === 'add' ? 1 : -1);
      return (v) => new Date(dateOf(v).getTime() + ms).toISOString();
    }
    case 'format_date':
      return (v) => formatDate(dateOf(v), argument as string);
    case 'find': {
      const { where, equals } = argument as { where: string; equals: Value };
      const field = compilePath(where);
      if (field.envelope || field.let !== undefined)
        throw new Error("`find`'s `where` is a path into each item, not an @envelope field or a $name");
      const target = compileOptional(equals, options).read;
      return (v, ctx) => {
        if (!Array.isArray(v)) throw new MappingError('is not a list', 'is not a list');
        const wanted = target(ctx);
        return wanted === undefined ? undefined : v.find((item) => readPath(field, { payload: item }) === wanted);
      };
    }
  }
}

/** The objects a value reads from: itself, or each of its `first` alternatives (strings are paths). */
export function valueSources(spec: Value | undefined): ValueObject[] {
  if (spec === undefined || spec === null || typeof spec !== 'object') return [];
  return Array.isArray(spec.first) ? spec.first.flatMap(valueSources) : [spec];
}

/** A compiled value that says `undefined` when the event lacks it (and it has no default), and what it reads. */
interface OptionalValue {
  read: ValueFn;
  describe: string;
}

/** Compiles a value whose absence is the caller's to judge (`first` tries the next one). */
function compileOptional(spec: Value, options: CompileValueOptions): OptionalValue {
  const object: ValueObject = typeof spec === 'string' ? { path: spec } : spec;
  const sources = SOURCE_NAMES.filter((k) => k in object);
  if (sources.length !== 1) {
    throw new Error(`a value needs exactly one of ${SOURCE_NAMES.join(', ')} (found ${sources.join(', ') || 'none'})`);
  }
  if (object.window !== undefined && !(options.allowWindow && sources[0] === 'body_sha256'))
    throw new Error('`window` applies only to an event id that is `body_sha256`');
  const hasDefault = 'default' in object;
  const transforms = transformsOf(object.transform, options);
  const [source, describe] = SOURCES[sources[0]!](object, options);
  const fallback = object.default;
  const lookup = object.map === undefined ? undefined : new Map(Object.entries(object.map));
  const read: ValueFn = (ctx) => {
    let value = source(ctx);
    if (value === undefined || value === null) return hasDefault ? fallback : undefined;
    try {
      for (const transform of transforms) value = transform(value, ctx);
    } catch (error) {
      if (error instanceof MappingError)
        throw new MappingError(`${describe}: ${error.message}`, `${describe} ${error.logText}`);
      throw error;
    }
    if (!lookup) return value;
    const key = typeof value === 'string' ? value : JSON.stringify(value);
    if (lookup.has(key)) return lookup.get(key);
    if (hasDefault) return fallback;
    throw new MappingError(
      `${describe} is ${JSON.stringify(key).slice(0, 60)}, not a key of its map`,
      `${describe} is not a key of its map`,
    );
  };
  return { read, describe };
}

/** Compiles a value that reads `undefined` when the event lacks it and it has no default (a derived value, `let:`). */
export function compileOptionalValue(spec: Value, options: CompileValueOptions = {}): ValueFn {
  return compileOptional(spec, options).read;
}

/**
 * Compiles a value spec into a function, once per isolate. Throws a plain Error with a clear message
 * when the spec is malformed; the function throws MappingError when an event lacks a required value.
 */
export function compileValue(spec: Value, options: CompileValueOptions = {}): ValueFn {
  const { read, describe } = compileOptional(spec, options);
  return (ctx) => {
    const value = read(ctx);
    if (value === undefined) throw new MappingError(`${describe} is missing from the event`);
    return value;
  };
}

/** A placeholder's text in a strict template: a non-empty string, a finite number or a boolean; else undefined. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * A template's function. Strict (event extraction): undefined unless every placeholder has a scalar value, so an id
 * is never a string of separators that every incomplete delivery would share. Otherwise a missing value renders empty.
 */
function compileTemplate(template: string, checkPath: (p: CompiledPath) => CompiledPath, strict: boolean): ValueFn {
  const parts: (string | CompiledPath)[] = [];
  const re = /\{([^{}]+)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push(template.slice(last, m.index), checkPath(compilePath(m[1]!.trim())));
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return (ctx) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const v = readPath(part, ctx);
        if (strict) {
          const text = scalarText(v);
          if (text === undefined) return undefined;
          out += text;
        } else if (v !== undefined && v !== null) out += typeof v === 'string' ? v : JSON.stringify(v);
      }
    }
    return out.replace(/\s+/g, ' ').trim();
  };
}

function isoFromEpoch(value: unknown, scale: number): string {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n))
    throw new MappingError(`${JSON.stringify(value)} is not an epoch timestamp`, 'is not an epoch timestamp');
  return new Date(n * scale).toISOString();
}
