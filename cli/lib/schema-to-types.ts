/**
 * The input json-schema-to-typescript is given. It turns a `$ref` with sibling keywords (`{ $ref: Value,
 * description }`) into a copy of the definition with a numbered name (Value7, RetryPolicy3, Step2) and loses the
 * description; `allOf: [{ $ref }]` beside the same keywords keeps the one named type and the comment. The schema
 * file itself is written as is: this rewrite only feeds the type generator.
 */
import type { JSONSchema } from 'json-schema-to-typescript';

/** A JSON Schema is an object (a boolean schema never reaches the type generator here). */
const isSchema = (value: unknown): value is JSONSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function refsAlone(node: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof node !== 'object' || node === null) return node;
  // The generator names a schema object once however often it appears: shared objects stay shared.
  if (seen.has(node)) return seen.get(node);
  let out: unknown;
  if (Array.isArray(node)) out = node.map((item) => refsAlone(item, seen));
  else if (isSchema(node)) {
    const { $ref, ...rest } = node;
    const walked = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, refsAlone(value, seen)]));
    out = $ref === undefined ? walked : Object.keys(rest).length ? { allOf: [{ $ref }], ...walked } : { $ref };
  }
  seen.set(node, out);
  return out;
}

/** The schema as the type generator should see it: every `$ref` alone in its object. */
export function typesInput(schema: unknown): JSONSchema {
  const input = refsAlone(schema, new WeakMap());
  if (!isSchema(input)) throw new Error('a JSON Schema object is expected');
  return input;
}

/**
 * A schema that shares the manifest's definitions (the catalog's verifier, event and handshake blocks), as the type
 * generator should see it: each reference to a shared definition becomes that type by name, imported from
 * types.gen.ts, so the generated file does not repeat the manifest's types. Returns the names to import.
 */
export function typesInputSharing(
  schema: unknown,
  shared: ReadonlySet<string>,
): { input: JSONSchema; imports: string[] } {
  const used = new Set<string>();
  const swap = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(swap);
    if (!isSchema(node)) return node;
    const ref = typeof node.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(node.$ref)?.[1] : undefined;
    if (ref && shared.has(ref)) {
      used.add(ref);
      const { $ref: _ref, ...rest } = node;
      return { ...rest, tsType: ref };
    }
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) =>
        // The shared definitions themselves are left out (types.gen.ts has them); the schema's own are walked.
        [
          key,
          key === 'definitions' && isSchema(value)
            ? Object.fromEntries(
                Object.entries(value)
                  .filter(([name]) => !shared.has(name))
                  .map(([name, def]) => [name, swap(def)]),
              )
            : swap(value),
        ],
      ),
    );
  };
  const input = typesInput(swap(schema));
  return { input, imports: [...used].sort() };
}
