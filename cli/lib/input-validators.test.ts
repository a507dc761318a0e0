/** Command input schemas checked at validate time: each schema by its own rules, however many a process compiles. */
import { describe, expect, it } from 'vitest';
import { compileInputSchema } from './input-validators.ts';

const order = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false };

describe('compileInputSchema', () => {
  it('checks each schema by its own rules, even when two share an $id (two manifests, one process)', () => {
    const a = compileInputSchema({ $id: 'https://example.com/input', ...order });
    const b = compileInputSchema({
      $id: 'https://example.com/input',
      type: 'object',
      properties: { n: { type: 'integer' } },
      required: ['n'],
    });
    expect(a({ id: 'o_1' })).toEqual([]);
    expect(a({ n: 1 })).not.toEqual([]);
    expect(b({ n: 1 })).toEqual([]);
    expect(b({ id: 'o_1' })).not.toEqual([]);
  });

  it('answers the same for the same schema compiled again', () => {
    const first = compileInputSchema(order);
    const again = compileInputSchema(structuredClone(order));
    for (const input of [{ id: 'o_1' }, {}, { id: 1 }, { id: 'o_1', extra: true }])
      expect(again(input)).toEqual(first(input));
    expect(first({ id: 'o_1', extra: true }).map((p) => p.path)).toEqual(['/extra']);
  });

  it("refuses a bad schema with Ajv's message every time it is asked", () => {
    const bad = { type: 'object', properties: { id: { type: 'strin' } } };
    expect(() => compileInputSchema(bad)).toThrow(/schema is invalid: data\/properties\/id/);
    expect(() => compileInputSchema(bad)).toThrow(/schema is invalid: data\/properties\/id/);
    expect(() => compileInputSchema({ type: 'object', wat: 1 })).toThrow(/unknown keyword: "wat"/);
  });
});
