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

/** What a field holds inside it, for walks over values (applying defaults): a nested spec, items, map values, a definition. */
export type Inner =
  | { readonly spec: Spec }
  | { readonly items: Field<unknown, Presence> }
  | { readonly values: Field<unknown, Presence> }
  | { readonly ref: string };

/** One option: its schema, how it is parsed, and whether it must be given. */
export interface Field<T, P extends Presence = 'required'> {
  readonly schema: JsonSchema;
  readonly presence: P;
  /** The default as the manifest would write it (for the docs and the schema's `default`). */
  readonly defaultValue?: unknown;
  /** The description as written (the schema's adds the generated `Default: …`). */
  readonly text?: string;
  /** What it holds inside (a nested spec, list items, map values, a definition), for walks that apply defaults. */
  readonly inner?: Inner;
  /** Turns a value the schema accepted into what `create` receives. */
  parse(raw: unknown): T;
  /** Not required; absent stays absent. */
  optional(): Field<T, 'optional'>;
  /**
   * Not required; absent means this value, written as the manifest would write it and parsed like one. An object
   * default also fills the keys a given object lacks. The schema's description says it (`Default: …`), generated:
   * no description restates a default by hand.
   */
  default(raw: unknown): Field<T, 'defaulted'>;
  /** The description shown in the schema, editors and docs. */
  describe(text: string): Field<T, P>;
  /** The schema's title: the name of its generated type. */
  title(name: string): Field<T, P>;
  /** Adds JSON Schema keywords (a pattern, a minimum, …). */
  with(schema: JsonSchema): Field<T, P>;
}

/** A component's options: field name to field. */
export type Spec = Readonly<Record<string, Field<unknown, Presence>>>;

type FieldsWhere<S extends Spec, P extends Presence> = {
  [K in keyof S]: S[K] extends Field<unknown, infer Q> ? (Q extends P ? K : never) : never;
}[keyof S];
type ValueOf<F> = F extends Field<infer T, Presence> ? T : never;

/** The options `create` receives for a spec: required and defaulted fields present, optional ones maybe. */
export type Options<S extends Spec> = { -readonly [K in FieldsWhere<S, 'required' | 'defaulted'>]: ValueOf<S[K]> } & {
  -readonly [K in FieldsWhere<S, 'optional'>]?: ValueOf<S[K]>;
};

/** How a default reads in a description and the docs: text as it is, anything else as JSON. */
export const defaultText = (value: unknown): string =>
  typeof value === 'string' && value !== '' ? value : JSON.stringify(value);

interface State {
  base: JsonSchema;
  parse: (raw: unknown) => unknown;
  presence: Presence;
  defaultValue?: unknown;
  text?: string;
  title?: string;
  inner?: Inner;
}

function schemaOf(state: State): JsonSchema {
  const { base, defaultValue, text, title } = state;
  const described = text ?? (typeof base.description === 'string' ? base.description : undefined);
  const said =
    defaultValue === undefined || !described
      ? described
      : `${described}${/[.!?)]$/.test(described) ? '' : '.'} Default: ${defaultText(defaultValue)}.`;
  return {
    ...(title ? { title } : {}),
    ...base,
    ...(said !== undefined ? { description: said } : {}),
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  };
}

function makeField<T, P extends Presence>(state: State & { presence: P }): Field<T, P> {
  const next = <Q extends Presence>(change: Partial<State>) =>
    makeField<T, Q>({ ...state, ...change } as State & { presence: Q });
  return {
    schema: schemaOf(state),
    presence: state.presence,
    ...(state.defaultValue !== undefined ? { defaultValue: state.defaultValue } : {}),
    ...(state.text !== undefined ? { text: state.text } : {}),
    ...(state.inner ? { inner: state.inner } : {}),
    parse: state.parse as (raw: unknown) => T,
    optional: () => next<'optional'>({ presence: 'optional', defaultValue: undefined }),
    default: (raw) => next<'defaulted'>({ presence: 'defaulted', defaultValue: raw }),
    describe: (text) => next<P>({ text }),
    title: (name) => next<P>({ title: name }),
    with: (extra) => next<P>({ base: { ...state.base, ...extra } }),
  };
}

const kind = <T>(base: JsonSchema, parse: (raw: unknown) => T = same as (raw: unknown) => T, inner?: Inner) =>
  makeField<T, 'required'>({ base, parse, presence: 'required', ...(inner ? { inner } : {}) });

const same = <T>(raw: unknown) => raw as T;
/** What a secret's NAME looks like: an environment variable (never its value). */
export const SECRET_PATTERN = '^[A-Z][A-Z0-9_]*$';

/** The field kinds a spec is written in. Every field is required until `.optional()` or `.default(…)`. */
export const field = {
  string: (schema: JsonSchema = {}) => kind<string>({ type: 'string', ...schema }),
  integer: (schema: JsonSchema = {}) => kind<number>({ type: 'integer', ...schema }),
  number: (schema: JsonSchema = {}) => kind<number>({ type: 'number', ...schema }),
  boolean: () => kind<boolean>({ type: 'boolean' }),
  /** One of these constants. */
  enum: <const V extends readonly (string | number | boolean)[]>(values: V) => kind<V[number]>({ enum: [...values] }),
  /** Exactly this constant (the `type` that picks a branch, a format version). */
  const: <const V extends string | number | boolean>(value: V) => kind<V>({ const: value }),
  /** A duration (`250ms`, `30s`, `5m`, `12h`, `7d`), parsed to milliseconds. */
  duration: () => kind<number>({ ...durationSchema }, (raw) => parseDuration(raw as string)),
  /** A size (`512B`, `64KiB`, `1MiB`), parsed to bytes. */
  size: () => kind<number>({ ...sizeSchema }, (raw) => parseSize(raw as string)),
  /** The NAME of an environment variable holding a secret, never its value. */
  secret: () =>
    kind<string>({
      type: 'string',
      pattern: SECRET_PATTERN,
      'x-secret': true,
      description: 'Name of an environment variable holding a secret (never the value itself).',
    }),
  /**
   * One or more secret names (several allow rotation: any one valid secret is accepted), always parsed to a list.
   * A verifier reads them with readSecretList: a name not set is skipped, and only a list with none set fails.
   */
  secrets: () =>
    kind<string[]>(
      {
        type: ['string', 'array'],
        pattern: SECRET_PATTERN,
        items: { type: 'string', pattern: SECRET_PATTERN },
        minItems: 1,
        'x-secret': true,
        description: 'Name(s) of environment variables holding secrets; list several to rotate.',
      },
      (raw) => (typeof raw === 'string' ? [raw] : [...(raw as string[])]),
    ),
  /** A list of one field kind. */
  // Items a schema already checked and that parse as they are (strings, values) are passed on without a copy.
  list: <T>(item: Field<T, Presence>, schema: JsonSchema = {}) =>
    kind<T[]>(
      { type: 'array', items: item.schema, ...schema },
      item.parse === same ? same : (raw) => (raw as unknown[]).map((v) => item.parse(v)),
      { items: item },
    ),
  /** A map from names to one field kind. */
  record: <T>(item: Field<T, Presence>, schema: JsonSchema = {}) =>
    kind<Record<string, T>>(
      { type: 'object', additionalProperties: item.schema, ...schema },
      item.parse === same
        ? same
        : (raw) =>
            Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, item.parse(v)])),
      { values: item },
    ),
  /** A map keyed by names matching `keys` (a pattern), e.g. `integrations:` by integration name. */
  map: <T>(item: Field<T, Presence>, keys: string, schema: JsonSchema = {}) =>
    field.record(item, { propertyNames: { pattern: keys }, ...schema }),
  /** A nested object with a spec of its own (closed: unknown keys are refused). */
  object: <S extends Spec>(spec: S, extra: JsonSchema = {}) =>
    kind<Options<S>>(objectSchema(spec, extra), (raw) => parseOptions(spec, raw as Record<string, unknown>), { spec }),
  /** A definition of the manifest schema (`Value`, `RetryPolicy`, `Requirement`…), typed by the caller from types.gen.ts. */
  ref: <T>(definition: string) => kind<T>({ $ref: `#/definitions/${definition}` }, same, { ref: definition }),
  /** Exactly one of these shapes (a union tagged by `type`: say it with `.with({ discriminator })`). */
  oneOf: <T>(branches: readonly (Field<unknown, Presence> | JsonSchema)[], schema: JsonSchema = {}) =>
    kind<T>({ ...schema, oneOf: branches.map(schemaOfBranch) }),
  /** At least one of these shapes (a name or a list of names). */
  anyOf: <T>(branches: readonly (Field<unknown, Presence> | JsonSchema)[], schema: JsonSchema = {}) =>
    kind<T>({ anyOf: branches.map(schemaOfBranch), ...schema }),
  /** Any JSON Schema, typed by the caller with the matching generated type: for shapes the field kinds do not cover. */
  schema: <T>(schema: JsonSchema) => kind<T>(schema),
};

function schemaOfBranch(branch: Field<unknown, Presence> | JsonSchema): JsonSchema {
  return typeof (branch as Field<unknown, Presence>).parse === 'function' && 'presence' in branch
    ? (branch as Field<unknown, Presence>).schema
    : (branch as JsonSchema);
}

/** The closed object schema of a spec: its properties, and the required ones. */
export function objectSchema(spec: Spec, extra: JsonSchema = {}): JsonSchema {
  const required = Object.entries(spec)
    .filter(([, f]) => f.presence === 'required')
    .map(([k]) => k);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(spec).map(([k, f]) => [k, f.schema])),
    ...(required.length ? { required } : {}),
    ...extra,
  };
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
  // The description as written: the table has a column of its own for the default.
  return Object.entries(spec).map(([name, f]) => ({
    name,
    type: typeText(f.schema),
    required: f.presence === 'required',
    ...(f.defaultValue !== undefined ? { default: defaultText(f.defaultValue) } : {}),
    description: f.text ?? (typeof f.schema.description === 'string' ? f.schema.description : ''),
  }));
}

function typeText(schema: JsonSchema): string {
  if (schema.$ref) {
    const name = String(schema.$ref).split('/').pop()!;
    return name === 'Duration' || name === 'Size' ? name.toLowerCase() : name;
  }
  if (typeof schema.tsType === 'string') return schema.tsType;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(branches)) return branches.map(typeText).join(' \\| ');
  if (typeof schema.title === 'string') return schema.title;
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object')
    return `map of ${typeText(schema.additionalProperties as JsonSchema)}`;
  if (schema['x-secret']) return 'secret';
  if (schema.pattern === durationSchema.pattern) return 'duration';
  if (schema.pattern === sizeSchema.pattern) return 'size';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.type === 'array') {
    const item = typeText((schema.items as JsonSchema) ?? {});
    return item.includes('|') ? `(${item})[]` : `${item}[]`;
  }
  return Array.isArray(schema.type) ? schema.type.join(' \\| ') : String(schema.type ?? 'object');
}
