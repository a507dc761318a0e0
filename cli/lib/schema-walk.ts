/**
 * Walks a manifest alongside its JSON Schema: each value with the schema that describes it (unions resolved by
 * their tag or their required keys), so a check can find every field of one kind (secret names, `Value`s) without
 * knowing where the adapters put them.
 */
/** The manifest's schema, as built: plain JSON with `$ref`s into its `definitions`. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema is walked by keyword; its shape is checked at run time
export type Schema = Record<string, any>;

/**
 * Calls `visit` for each value with its schema (`raw` as written, maybe a `$ref`; `schema` resolved); a visit that
 * returns true has handled the value, and the walk does not go inside it.
 */
export function walkWithSchema(
  root: Schema,
  value: unknown,
  visit: (schema: Schema, raw: Schema, v: unknown, path: (string | number)[]) => boolean,
): void {
  const resolve = (s: Schema): Schema => (s.$ref ? resolve(root.definitions[s.$ref.split('/').pop()]) : s);
  const walk = (raw: Schema | boolean | undefined, v: unknown, path: (string | number)[]) => {
    if (!raw || raw === true || v === undefined || v === null) return;
    const s = resolve(raw);
    if (visit(s, raw, v, path)) return;
    if (Array.isArray(s.allOf)) for (const b of s.allOf as Schema[]) walk(b, v, path);
    if (s.oneOf || s.anyOf) {
      // Each branch is walked as written (a `$ref` stays one, for a visit that looks for it), chosen as resolved.
      const branches: Schema[] = s.oneOf ?? s.anyOf;
      const tag = s.discriminator?.propertyName;
      const chosen = branches.filter((raw) => {
        const b = resolve(raw);
        return tag
          ? b.properties?.[tag]?.const === (v as Schema)[tag]
          : !b.required || (typeof v === 'object' && b.required.every((k: string) => k in (v as object)));
      });
      for (const b of chosen) walk(b, v, path);
      return;
    }
    if (s.if && typeof v === 'object' && !Array.isArray(v)) {
      // Only `required` conditions occur in the manifest schema (with `provider:`, or without it).
      const holds = ((s.if as Schema).required ?? []).every((k: string) => k in (v as object));
      const branch = holds ? s.then : s.else;
      if (branch) walk({ ...branch, additionalProperties: false }, v, path);
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(s.items, item, [...path, i]));
      return;
    }
    if (typeof v === 'object') {
      for (const [k, item] of Object.entries(v as object))
        walk(s.properties?.[k] ?? s.additionalProperties, item, [...path, k]);
    }
  };
  walk(root, value, []);
}
