import { describe, expect, it } from 'vitest';
import { compile } from 'json-schema-to-typescript';
import { typesInput } from './schema-to-types.ts';
import { readFileSync } from 'node:fs';

const value = {
  title: 'Value',
  description: 'A value.',
  anyOf: [
    { type: 'string' },
    { type: 'object', additionalProperties: false, properties: { path: { type: 'string' } } },
  ],
};

describe('the type generator input', () => {
  it('keeps one named type for a definition referenced with a description, and keeps the description', async () => {
    const schema = {
      title: 'M',
      type: 'object',
      additionalProperties: false,
      properties: {
        id: { $ref: '#/definitions/Value' },
        per: { $ref: '#/definitions/Value', description: 'Count separately per value.' },
      },
      definitions: { Value: value },
    };
    const types = await compile(typesInput(schema), 'M', {
      bannerComment: '',
      additionalProperties: false,
      unreachableDefinitions: true,
    });
    expect(types).not.toMatch(/Value1/);
    expect(types).toMatch(/per\?: Value;/);
    expect(types).toContain('Count separately per value.');
    expect(schema.properties.per).toEqual({ $ref: '#/definitions/Value', description: 'Count separately per value.' });
  });

  it('leaves the generated manifest types with no numbered copies (Value7, RetryPolicy3, Step2)', () => {
    const generated = readFileSync('runtime/manifest/types.gen.ts', 'utf8');
    expect(generated.match(/^export (type|interface) [A-Za-z]+[0-9]+\b/gm) ?? []).toEqual([]);
  });
});
