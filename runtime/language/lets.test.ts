/** Derived values (`let:`): computed once per event on first read, in order, and checked by name. */
import { describe, expect, it } from 'vitest';
import { compileLets, letReferences } from './lets.ts';
import { compileValue, type ValueContext } from './values.ts';

describe('let scopes', () => {
  it('computes each name once per event, on its first read, and never when unread', () => {
    let reads = 0;
    const payload = {
      get amount() {
        reads++;
        return 1999;
      },
    };
    const problems: string[] = [];
    const scope = compileLets(
      { cents: 'amount', total: { path: '$cents', transform: [{ money: { const: 'usd' } }] } },
      undefined,
      (at, m) => problems.push(`${at.join('.')}: ${m}`),
    )!;
    expect(problems).toEqual([]);
    const base: ValueContext = { payload };
    expect(reads).toBe(0);
    const total = compileValue('$total');
    expect(total(scope.bind(base))).toBe('$19.99');
    expect(total(scope.bind(base))).toBe('$19.99');
    expect(compileValue('$cents')(scope.bind(base))).toBe(1999);
    expect(reads).toBe(1);
    // Another event (another base context) computes its own.
    expect(total(scope.bind({ payload }))).toBe('$19.99');
    expect(reads).toBe(2);
  });

  it("a handler's names sit over its integration's, and read them", () => {
    const parent = compileLets({ currency: { const: 'eur' } }, undefined, () => undefined);
    const child = compileLets(
      { total: { path: 'amount', transform: [{ money: '$currency' }] } },
      parent,
      () => undefined,
    )!;
    expect([...child.names]).toEqual(['currency', 'total']);
    expect(compileValue('$total')(child.bind({ payload: { amount: 500 } }))).toBe('€5.00');
  });

  it('refuses a name read before it is declared, with the place', () => {
    const problems: string[] = [];
    compileLets({ a: { template: 'x {$b}' }, b: 'data.b' }, undefined, (at, m) =>
      problems.push(`${at.join('.')}: ${m}`),
    );
    expect(problems).toEqual([
      'a.template: $b is not a derived value declared before this one; declare it under let: on the integration or the handler',
    ]);
  });

  it('finds $name reads in paths and template placeholders, not in object keys', () => {
    expect(
      letReferences({
        params: { a: '$total', b: { path: '$x.y' }, c: { template: 'n {$order_id} {data.id}' } },
        properties: { $lib: 'data.lib' },
      }).map((r) => [r.name, r.at.join('.')]),
    ).toEqual([
      ['total', 'params.a'],
      ['x', 'params.b.path'],
      ['order_id', 'params.c.template'],
    ]);
  });
});
