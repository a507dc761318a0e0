/**
 * A component's options, declared once. Each field says its JSON Schema (what the manifest schema, editors and the
 * generated types get), whether it is required or has a default (applied once, when the component is created),
 * how its YAML value is parsed (a duration becomes milliseconds, a list of secrets is always a list) and its line in
 * the docs. A component's `create` receives the parsed options, typed from the spec: no hand-written options type
 * and no `?? default` scattered through the code.
 *
 * Learnt from Redpanda Connect's config specs (`service.NewDurationField("timeout").Default("5s")`): one
 * declaration drives validation, defaults, docs and lint.
 *
 * @example
 * const spec = { secret: field.secrets(), tolerance: field.duration().default('5m').describe('Accepted clock skew.') };
 * // create(options) gets { secret: string[]; tolerance: number }
 */
import { durationSchema, parseDuration, parseSize, sizeSchema } from '../lib/duration.ts';

/** A JSON Schema fragment. */
export type JsonSchema = Record<string, unknown>;

type Presence = 'required' | 'optional' | 'defaulted';

/** One option: its schema, how it is parsed, and whether it must be given. */
export interface Field<T, P extends Presence = 'required'> {
  readonly schema: JsonSchema;
  readonly presence: P;
  /** The default as the manifest would write it (for the docs and the schema's `default`). */
  readonly defaultValue?: unknown;
  /** Turns a value the schema accepted into what `create` receives. */
  parse(raw: unknown): T;
  /** Not required; absent stays absent. */
  optional(): Field<T, 'optional'>;
  /** Not required; absent means this value, written as the manifest would write it and parsed like one. */
  default(raw: unknown): Field<T, 'defaulted'>;
  /** The description shown in the schema, editors and docs. */
  describe(text: string): Field<T, P>;
  /** Adds JSON Schema keywords (a pattern, a minimum, …). */
  with(schema: JsonSchema): Field<T, P>;
}

/** A component's options: field name to field. */
export type Spec = Readonly<Record<string, Field<unknown, Presence>>>;

type FieldsWhere<S extends Spec, P extends Presence> = { [K in keyof S]: S[K] extends Field<unknown, infer Q> ? (Q extends P ? K : never) : never }[keyof S];
type ValueOf<F> = F extends Field<infer T, Presence> ? T : never;

/** The options `create` receives for a spec: required and defaulted fields present, optional ones maybe. */
export type Options<S extends Spec> = { -readonly [K in FieldsWhere<S, 'required' | 'defaulted'>]: ValueOf<S[K]> } & { -readonly [K in FieldsWhere<S, 'optional'>]?: ValueOf<S[K]> };

function makeField<T, P extends Presence>(schema: JsonSchema, parse: (raw: unknown) => T, presence: P, defaultValue?: unknown): Field<T, P> {
  return {
    schema,
    presence,
    ...(defaultValue !== undefined ? { defaultValue } : {}),
    parse,
    optional: () => makeField(schema, parse, 'optional'),
    default: (raw) => makeField({ ...schema, default: raw }, parse, 'defaulted', raw),
    describe: (text) => makeField({ ...schema, description: text }, parse, presence, defaultValue),
    with: (extra) => makeField({ ...schema, ...extra }, parse, presence, defaultValue),
  };
}

const same = <T>(raw: unknown) => raw as T;
/** What a secret's NAME looks like: an environment variable (never its value). */
export const SECRET_PATTERN = '^[A-Z][A-Z0-9_]*$';

/** The field kinds a spec is written in. Every field is required until `.optional()` or `.default(…)`. */
export const field = {
  string: (schema: JsonSchema = {}) => makeField<string, 'required'>({ type: 'string', ...schema }, same, 'required'),
  integer: (schema: JsonSchema = {}) => makeField<number, 'required'>({ type: 'integer', ...schema }, same, 'required'),
  number: (schema: JsonSchema = {}) => makeField<number, 'required'>({ type: 'number', ...schema }, same, 'required'),
  boolean: () => makeField<boolean, 'required'>({ type: 'boolean' }, same, 'required'),
  /** One of these constants. */
  enum: <const V extends readonly (string | number | boolean)[]>(values: V) => makeField<V[number], 'required'>({ enum: [...values] }, same, 'required'),
  /** A duration (`250ms`, `30s`, `5m`, `12h`, `7d`), parsed to milliseconds. */
  duration: () => makeField<number, 'required'>({ ...durationSchema }, (raw) => parseDuration(raw as string), 'required'),
  /** A size (`512B`, `64KiB`, `1MiB`), parsed to bytes. */
  size: () => makeField<number, 'required'>({ ...sizeSchema }, (raw) => parseSize(raw as string), 'required'),
  /** The NAME of an environment variable holding a secret, never its value. */
  secret: () => makeField<string, 'required'>({ type: 'string', pattern: SECRET_PATTERN, 'x-secret': true, description: 'Name of an environment variable holding a secret (never the value itself).' }, same, 'required'),
  /**
   * One or more secret names (several allow rotation: any one valid secret is accepted), always parsed to a list.
   * A verifier reads them with readSecretList: a name not set is skipped, and only a list with none set fails.
   */
  secrets: () =>
    makeField<string[], 'required'>(
      { type: ['string', 'array'], pattern: SECRET_PATTERN, items: { type: 'string', pattern: SECRET_PATTERN }, minItems: 1, 'x-secret': true, description: 'Name(s) of environment variables holding secrets; list several to rotate.' },
      (raw) => (typeof raw === 'string' ? [raw] : [...(raw as string[])]),
      'required',
    ),
  /** A list of one field kind. */
  // Items a schema already checked and that parse as they are (strings, values) are passed on without a copy.
  list: <T>(item: Field<T, Presence>, schema: JsonSchema = {}) => makeField<T[], 'required'>({ type: 'array', items: item.schema, ...schema }, item.parse === same ? same : (raw) => (raw as unknown[]).map((v) => item.parse(v)), 'required'),
  /** A map from names to one field kind. */
  record: <T>(item: Field<T, Presence>, schema: JsonSchema = {}) =>
    makeField<Record<string, T>, 'required'>(
      { type: 'object', additionalProperties: item.schema, ...schema },
      item.parse === same ? same : (raw) => Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, item.parse(v)])),
      'required',
    ),
  /** A nested object with a spec of its own (closed: unknown keys are refused). */
  object: <S extends Spec>(spec: S) => makeField<Options<S>, 'required'>(objectSchema(spec), (raw) => parseOptions(spec, raw as Record<string, unknown>), 'required'),
  /** A definition of the manifest schema (`Value`, `RetryPolicy`, `Requirement`…), typed by the caller from types.gen.ts. */
  ref: <T>(definition: string) => makeField<T, 'required'>({ $ref: `#/definitions/${definition}` }, same, 'required'),
  /** Any JSON Schema, typed by the caller with the matching generated type: for shapes the field kinds do not cover. */
  schema: <T>(schema: JsonSchema) => makeField<T, 'required'>(schema, same, 'required'),
};

/** The closed object schema of a spec: its properties, and the required ones. */
export function objectSchema(spec: Spec, extra: JsonSchema = {}): JsonSchema {
  const required = Object.entries(spec).filter(([, f]) => f.presence === 'required').map(([k]) => k);
  return { type: 'object', additionalProperties: false, properties: Object.fromEntries(Object.entries(spec).map(([k, f]) => [k, f.schema])), ...(required.length ? { required } : {}), ...extra };
}

/**
 * Parses options the schema accepted: applies defaults and each field's parser. A parser's error names its option.
 * Keys the spec does not know (`type`, `description`, a step's shared keys) are left out.
 */
export function parseOptions<S extends Spec>(spec: S, raw: Readonly<Record<string, unknown>>): Options<S> {
  let fields = SPEC_FIELDS.get(spec);
  if (!fields) SPEC_FIELDS.set(spec, (fields = Object.entries(spec)));
  const out: Record<string, unknown> = {};
  for (const [key, f] of fields) {
    const given = raw[key];
    const value = given !== undefined ? given : f.defaultValue;
    if (value === undefined) {
      if (f.presence === 'required') throw new Error(`${key} is required`);
      continue;
    }
    // A value the schema checked and that parses as it is (most fields) is taken as it is.
    out[key] = f.parse === same ? value : parseField(key, f, value);
  }
  return out as Options<S>;
}

/** A spec's fields as a list, worked out once per spec (manifests compile many components of one kind). */
const SPEC_FIELDS = new WeakMap<Spec, [string, Field<unknown, Presence>][]>();

function parseField(key: string, f: Field<unknown, Presence>, value: unknown): unknown {
  try {
    return f.parse(value);
  } catch (error) {
    throw new Error(`${key}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The names of the secrets a spec's options name, per secret field in spec order (what a signer is given). */
export function secretNames(spec: Spec, options: Readonly<Record<string, unknown>>): string[][] {
  return Object.entries(spec)
    .filter(([key, f]) => f.schema['x-secret'] === true && options[key] !== undefined)
    .map(([key]) => {
      const value = options[key];
      return typeof value === 'string' ? [value] : Array.isArray(value) ? (value as string[]) : [];
    });
}

/** One row of a component's docs table: option, type, required or its default, description. */
export interface FieldDoc {
  name: string;
  type: string;
  required: boolean;
  default?: string;
  description: string;
}

/** The docs table of a spec. */
export function fieldDocs(spec: Spec): FieldDoc[] {
  return Object.entries(spec).map(([name, f]) => ({
    name,
    type: typeText(f.schema),
    required: f.presence === 'required',
    ...(f.defaultValue !== undefined ? { default: typeof f.defaultValue === 'string' ? f.defaultValue : JSON.stringify(f.defaultValue) } : {}),
    description: typeof f.schema.description === 'string' ? f.schema.description : '',
  }));
}

function typeText(schema: JsonSchema): string {
  if (schema.$ref) return String(schema.$ref).split('/').pop()!;
  if (schema['x-secret']) return 'secret';
  if (schema.pattern === durationSchema.pattern) return 'duration';
  if (schema.pattern === sizeSchema.pattern) return 'size';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.type === 'array') return `${typeText((schema.items as JsonSchema) ?? {})}[]`;
  return Array.isArray(schema.type) ? schema.type.join(' \\| ') : String(schema.type ?? 'object');
}
