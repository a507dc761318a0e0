/** Finds every secret a manifest names, by walking it alongside its schema (`x-secret` marks secret fields). */
type Schema = Record<string, any>;

export interface SecretUse {
  name: string;
  path: (string | number)[];
}

export function secretUses(schema: Schema, value: unknown): SecretUse[] {
  const uses: SecretUse[] = [];
  const resolve = (s: Schema): Schema => (s.$ref ? resolve(schema.definitions[s.$ref.split('/').pop()]) : s);
  const walk = (raw: Schema | boolean | undefined, v: unknown, path: (string | number)[]) => {
    if (!raw || raw === true || v === undefined || v === null) return;
    const s = resolve(raw);
    if (s['x-secret']) {
      for (const [i, name] of ([] as unknown[]).concat(v).entries()) {
        if (typeof name === 'string') uses.push({ name, path: Array.isArray(v) ? [...path, i] : path });
      }
      return;
    }
    if (s.oneOf || s.anyOf) {
      const branches: Schema[] = (s.oneOf ?? s.anyOf).map(resolve);
      const tag = s.discriminator?.propertyName;
      const chosen = tag
        ? branches.filter((b) => b.properties?.[tag]?.const === (v as Schema)[tag])
        : branches.filter((b) => !b.required || (typeof v === 'object' && b.required.every((k: string) => k in (v as object))));
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
      for (const [k, item] of Object.entries(v as object)) {
        walk(s.properties?.[k] ?? s.additionalProperties, item, [...path, k]);
      }
    }
  };
  walk(schema, value, []);
  return uses;
}
