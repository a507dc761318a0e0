/** Finds every secret a manifest names, by walking it alongside its schema (`x-secret` marks secret fields). */
import { walkWithSchema, type Schema } from './schema-walk.ts';

export interface SecretUse {
  name: string;
  path: (string | number)[];
}

export function secretUses(schema: Schema, value: unknown): SecretUse[] {
  const uses: SecretUse[] = [];
  walkWithSchema(schema, value, (s, _raw, v, path) => {
    if (!s['x-secret']) return false;
    for (const [i, name] of ([] as unknown[]).concat(v).entries()) {
      if (typeof name === 'string') uses.push({ name, path: Array.isArray(v) ? [...path, i] : path });
    }
    return true;
  });
  return uses;
}
