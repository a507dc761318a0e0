/** Conditions (`if:`): each operator, the strict semantics a writer relies on, and what a mistake says. */
import { describe, expect, it } from 'vitest';
import { compileCondition, conditionPaths, ConditionError, type ConditionSpec } from './conditions.ts';
import type { ValueContext } from './values.ts';

const payload = {
  ref: 'refs/heads/main',
  data: {
    object: {
      mode: 'subscription',
      amount_due: 250000,
      currency: 'usd',
      metadata: { notify_sms: 'true' },
      created: '2026-12-07T10:00:00Z',
      tags: ['vip', 'eu'],
      note: null,
    },
    primary_email_address_id: 'idn_2',
    email_addresses: [
      { id: 'idn_1', verification: { status: 'unverified' } },
      { id: 'idn_2', verification: { status: 'verified' } },
    ],
  },
};
const ctx: ValueContext = {
  payload,
  envelope: { type: 'checkout.session.completed', id: 'evt_1' },
  lets: (name) => ({ total: '$2,500.00', threshold: 100000 })[name],
};
const holds = (spec: unknown) => compileCondition(spec as ConditionSpec).test(ctx);
const problem = (spec: unknown) => {
  try {
    compileCondition(spec as ConditionSpec);
  } catch (error) {
    if (error instanceof ConditionError) return { at: error.at.join('.'), message: error.message };
    throw error;
  }
  return undefined;
};

describe('operators', () => {
  it.each([
    [{ path: 'data.object.mode', eq: 'subscription' }, true],
    [{ path: 'data.object.mode', eq: 'payment' }, false],
    [{ path: 'data.object.mode', ne: 'payment' }, true],
    [{ path: 'data.object.missing', ne: 'payment' }, true],
    [{ path: 'data.object.missing', eq: null }, false],
    [{ path: 'data.object.note', eq: null }, true],
    [{ path: 'data.object.currency', in: ['usd', 'eur'] }, true],
    [{ path: 'data.object.currency', not_in: ['usd', 'eur'] }, false],
    [{ path: 'data.object.amount_due', gt: 100000 }, true],
    [{ path: 'data.object.amount_due', gte: 250000, lt: 250001 }, true],
    [{ path: 'data.object.amount_due', lte: 100000 }, false],
    [{ path: 'data.object.created', gt: '2026-12-01' }, true],
    [{ path: 'data.object.created', lt: '2026-12-07T09:59:59Z' }, false],
    [{ path: 'ref', starts_with: 'refs/heads/' }, true],
    [{ path: 'ref', ends_with: '/main' }, true],
    [{ path: 'ref', contains: 'heads' }, true],
    [{ path: 'data.object.tags', contains: 'vip' }, true],
    [{ path: 'data.object.metadata.notify_sms', exists: true }, true],
    [{ path: 'data.object.note', exists: false }, true],
    [{ path: 'data.email_addresses', some: { path: 'verification.status', eq: 'verified' } }, true],
    [{ path: 'data.email_addresses', every: { path: 'verification.status', eq: 'verified' } }, false],
    [
      {
        path: 'data.email_addresses',
        some: {
          all: [
            { path: 'id', eq: { path: 'data.primary_email_address_id' } },
            { path: 'verification.status', eq: 'verified' },
          ],
        },
      },
      true,
    ],
    [{ path: '@type', eq: 'checkout.session.completed' }, true],
    [{ path: '$total', eq: '$2,500.00' }, true],
    [{ path: 'data.object.amount_due', gt: { path: '$threshold' } }, true],
    [
      {
        all: [
          { path: 'data.object.currency', eq: 'usd' },
          { path: 'data.object.amount_due', gt: 100000 },
        ],
      },
      true,
    ],
    [
      {
        any: [
          { path: 'data.object.currency', eq: 'eur' },
          { path: 'data.object.mode', eq: 'payment' },
        ],
      },
      false,
    ],
    [{ not: { path: 'data.object.mode', eq: 'payment' } }, true],
  ])('%j → %s', (spec, expected) => expect(holds(spec)).toBe(expected));

  it('never coerces: a string is not a number, a number is not its text', () => {
    expect(holds({ path: 'data.object.metadata.notify_sms', eq: true })).toBe(false);
    expect(holds({ path: 'data.object.amount_due', eq: '250000' })).toBe(false);
    expect(holds({ path: 'data.object.mode', gt: 1 })).toBe(false);
  });
});

describe('why a condition is false', () => {
  it('names the leaf that decided, as the manifest writes it, and never an event value', () => {
    const c = compileCondition({
      all: [
        { path: 'data.object.currency', eq: 'usd' },
        { path: 'data.object.amount_due', gt: 1_000_000 },
      ],
    });
    expect(c.test(ctx)).toBe(false);
    expect(c.why(ctx)).toBe('data.object.amount_due gt 1000000');
    expect(compileCondition({ any: [{ path: 'ref', eq: 'refs/heads/dev' }] }).why(ctx)).toBe(
      'none of any(ref eq refs/heads/dev)',
    );
  });
});

describe('mistakes, each at its place with a hint', () => {
  it.each([
    [
      { path: 'data.object.mode', equals: 'subscription' },
      'equals',
      /unknown operator "equals" \(did you mean "eq"\?\); operators: eq, ne/,
    ],
    [{ path: 'data.object.mode', startsWith: 'sub' }, 'startsWith', /did you mean "starts_with"/],
    [{ path: 'a', eq: 1, pth: 'b' }, 'pth', /^unknown key "pth" \(did you mean "path"\?\)$/],
    [{ path: '@tpye', eq: 'x' }, 'path', /unknown envelope field @tpye \(did you mean "@type"\?\)/],
    [{ path: 'data.object.mode', eqq: 'x' }, 'eqq', /did you mean "eq"/],
    [{ path: 'data.object.amount_due', gt: '100000' }, 'gt', /"100000" is a string: write 100000 without quotes/],
    [{ path: 'data.object.amount_due', gt: 'soon' }, 'gt', /numbers or ISO-8601 dates/],
    [{ path: 'data.object.mode' }, '', /has no operator/],
    [
      {
        all: [
          { path: 'a', eq: 1 },
          { pth: 'b', eq: 2 },
        ],
      },
      'all.1',
      /needs a path.*did you mean "path"/,
    ],
    [{ all: [{ path: 'a', eq: 1 }], path: 'b' }, '', /all stands alone/],
    [{ path: 'a..b', eq: 1 }, 'path', /malformed path/],
    [{ path: 'a', in: 'usd' }, 'in', /a list of values/],
  ])('%j', (spec, at, message) => {
    const p = problem(spec);
    expect(p?.at).toBe(at);
    expect(p?.message).toMatch(message);
  });
});

describe('the paths a condition reads (for validate)', () => {
  it('lists each path, its place, the lists it is read inside, and its constants', () => {
    const paths = conditionPaths({
      all: [
        { path: 'data.object.amount_due', gt: 100000 },
        { path: 'data.email_addresses', some: { path: 'id', eq: { path: 'data.primary_email_address_id' } } },
      ],
    });
    expect(paths).toEqual([
      { path: 'data.object.amount_due', at: ['all', 0, 'path'], within: [], compared: [{ op: 'gt', operand: 100000 }] },
      { path: 'data.email_addresses', at: ['all', 1, 'path'], within: [], compared: [] },
      { path: 'id', at: ['all', 1, 'some', 'path'], within: ['data.email_addresses'], compared: [] },
      { path: 'data.primary_email_address_id', at: ['all', 1, 'some', 'eq', 'path'], within: [], compared: [] },
    ]);
  });
});
