/** Value expressions: how a manifest takes a value out of an event, and what its author sees when it cannot. */
import { describe, expect, it } from 'vitest';
import {
  compilePath,
  compileValue,
  MappingError,
  PATH_PATTERN,
  readPath,
  type CompileValueOptions,
  type ValueContext,
} from './values.ts';

const event = {
  data: {
    id: 'cus_1',
    email: 'Ada@Example.com',
    items: [{ price: { id: 'price_9' } }],
    created: 1_700_000_000,
    amount: '42',
    note: null,
    tags: ['a', 'b'],
  },
};
const ctx: ValueContext = {
  payload: event,
  envelope: { id: 'evt_1', type: 'customer.created', integration: 'stripe', occurred_at: '2026-01-01T00:00:00.000Z' },
  headers: new Headers({ 'X-Request-Id': 'req_7' }),
  bodySha256: 'ab12',
  env: { ADMIN_EMAIL: 'ops@example.com' },
  now: () => '2026-02-02T00:00:00.000Z',
};
const value = (
  spec: Parameters<typeof compileValue>[0],
  options: CompileValueOptions = { allowEnvelope: true, allowHeaders: true },
) => compileValue(spec, options)(ctx);

describe('paths', () => {
  it('accept exactly what PATH_PATTERN (the schema) accepts, read as its steps', () => {
    const pattern = new RegExp(PATH_PATTERN);
    const steps = (text: string) =>
      (text.startsWith('@') ? text.slice(1) : text).split('.').flatMap((part) => {
        const [name, ...rest] = part.split('[');
        return [...(name ? [name] : []), ...rest.map((index) => Number(index.slice(0, -1)))];
      });
    const alphabet = ['a', 'Z', '0', '7', '_', '$', '-', '@', '.', '[', ']', 'é', ' '];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const samples = [
      '',
      '@',
      '@occurred_at',
      '@a.b[0]',
      '@A',
      '@a[0]',
      'a',
      'a.',
      '.a',
      'a..b',
      '[0]',
      '[0].a',
      '[]',
      'a[]',
      'a[0][12].b-c[3]',
      'data.items[0].price.id',
      '$x.y_z',
    ];
    for (let n = 0; n < 20_000; n++)
      samples.push(Array.from({ length: next() % 9 }, () => alphabet[next() % alphabet.length]).join(''));
    for (const text of samples) {
      let parsed: ReturnType<typeof compilePath> | undefined;
      try {
        parsed = compilePath(text);
      } catch {
        parsed = undefined;
      }
      expect([text, Boolean(parsed)]).toEqual([text, pattern.test(text)]);
      if (parsed)
        expect(parsed.let === undefined ? parsed.segments : [`$${parsed.let}`, ...parsed.segments]).toEqual(
          steps(text),
        );
    }
  });

  it('read nested fields and array indexes; a path into a top-level array starts with [n]', () => {
    expect(value('data.items[0].price.id')).toBe('price_9');
    expect(value('data.tags[1]')).toBe('b');
    expect(readPath(compilePath('[1].id'), { payload: [{ id: 'a' }, { id: 'b' }] })).toBe('b');
  });

  it('read undefined through a missing step instead of throwing', () => {
    expect(readPath(compilePath('data.missing.deeper[3]'), ctx)).toBeUndefined();
    expect(readPath(compilePath('data.email.length'), ctx)).toBeUndefined();
  });

  it('read the envelope with @', () => {
    expect(value('@id')).toBe('evt_1');
    expect(value('@type')).toBe('customer.created');
  });

  it('refuse a malformed path at compile time, quoting it', () => {
    for (const path of ['data..id', 'data.items[x]', 'data items', ''])
      expect(() => compilePath(path)).toThrow(`malformed path ${JSON.stringify(path)}`);
  });

  it('refuse an unknown envelope field, listing the known ones, and the envelope where it is not available', () => {
    expect(() => value('@created')).toThrow(
      'unknown envelope field @created; known: @id, @type, @integration, @occurred_at, @received_at, @version',
    );
    expect(() => compileValue('@id')).toThrow('envelope path @id is not available here');
  });
});

describe('missing values and defaults', () => {
  it('throw a MappingError naming the path when the event lacks it (a missing field and a null alike)', () => {
    expect(() => value('data.phone')).toThrow(MappingError);
    expect(() => value('data.phone')).toThrow('path data.phone is missing from the event');
    expect(() => value({ path: 'data.note' })).toThrow('path data.note is missing from the event');
  });

  it('use the default when the source is missing or null, and skip the transforms for it', () => {
    expect(value({ path: 'data.phone', default: 'none' })).toBe('none');
    expect(value({ path: 'data.note', default: null })).toBeNull();
    expect(value({ path: 'data.note', transform: 'number', default: 0 })).toBe(0);
  });
});

describe('sources', () => {
  it('template (handler steps): renders {path} placeholders, a missing one as empty, and collapses the spaces', () => {
    const step = { allowEnvelope: true };
    expect(value({ template: '{data.id}:{@type}' }, step)).toBe('cus_1:customer.created');
    expect(value({ template: '  {data.phone}  {data.id}  ' }, step)).toBe('cus_1');
    expect(value({ template: 'tags={data.tags}' }, step)).toBe('tags=["a","b"]');
  });

  it('template (event extraction): missing unless every placeholder is a non-empty scalar, so an id is never separators', () => {
    const extraction = { allowHeaders: true };
    expect(value({ template: '{data.id}:{data.created}' }, extraction)).toBe('cus_1:1700000000');
    for (const template of ['{data.id}:{data.phone}', '{data.note}:{data.id}', '{data.tags}', '{data.items[0]}']) {
      expect(() => value({ template }, extraction)).toThrow(
        new MappingError(`template ${JSON.stringify(template)} is missing from the event`),
      );
    }
    expect(() => compileValue({ template: '{a}:{b}' }, extraction)({ payload: { a: 'x', b: '  ' } })).toThrow(
      MappingError,
    );
    expect(value({ template: '{data.id}:{data.phone}', default: 'fallback' }, extraction)).toBe('fallback');
  });

  it('first: the first alternative present, each with its own default and transforms; else missing', () => {
    const extraction = { allowHeaders: true };
    expect(
      value(
        { first: ['data.phone', { template: '{data.id}:{data.phone}' }, { path: 'data.amount', transform: 'number' }] },
        extraction,
      ),
    ).toBe(42);
    expect(value({ first: [{ path: 'data.phone', default: 'none' }, 'data.id'] }, extraction)).toBe('none');
    expect(() => value({ first: ['data.phone', { template: '{data.fax}' }] }, extraction)).toThrow(
      'first of (path data.phone, template "{data.fax}") is missing from the event',
    );
    expect(value({ first: ['data.phone'], default: 'd' }, extraction)).toBe('d');
    // A present value whose transform fails is an error, not a reason to try the next one.
    expect(() => value({ first: [{ path: 'data.email', transform: 'number' }, 'data.id'] }, extraction)).toThrow(
      'is not a number',
    );
  });

  it('body_sha256 with a window: unique per arrival, only for the event id', () => {
    expect(compileValue({ body_sha256: true, window: '1m' }, { allowHeaders: true, allowWindow: true })(ctx)).toBe(
      'ab12@2026-02-02T00:00:00.000Z',
    );
    expect(() => compileValue({ body_sha256: true, window: '1m' }, { allowHeaders: true })).toThrow(
      '`window` applies only to an event id that is `body_sha256`',
    );
    expect(() => compileValue({ path: 'a', window: '1m' }, { allowHeaders: true, allowWindow: true })).toThrow(
      '`window` applies only',
    );
    expect(() =>
      compileValue({ first: [{ body_sha256: true, window: '1m' }] }, { allowHeaders: true, allowWindow: true }),
    ).toThrow('`window` applies only');
  });

  it('const, now, env, header and body_sha256', () => {
    expect(value({ const: { a: 1 } })).toEqual({ a: 1 });
    expect(value({ now: true })).toBe('2026-02-02T00:00:00.000Z');
    expect(value({ env: 'ADMIN_EMAIL' })).toBe('ops@example.com');
    expect(value({ header: 'x-request-ID' })).toBe('req_7');
    expect(value({ body_sha256: true })).toBe('ab12');
  });

  it('need exactly one source, and say which were found', () => {
    expect(() => compileValue({ path: 'a', const: 1 })).toThrow(
      'a value needs exactly one of path, template, first, const, now, header, body_sha256, env (found path, const)',
    );
    expect(() => compileValue({ default: 1 })).toThrow('(found none)');
  });

  it('keep headers and body_sha256 to event extraction, and env to handler steps', () => {
    expect(() => compileValue({ header: 'x' }, { allowEnvelope: true })).toThrow(
      '`header` values are only available in event extraction',
    );
    expect(() => compileValue({ body_sha256: true }, { allowEnvelope: true })).toThrow(
      '`body_sha256` is only available in event extraction',
    );
    expect(() => compileValue({ env: 'X' }, { allowHeaders: true })).toThrow(
      '`env` values are only available in handler steps',
    );
  });
});

describe('transforms', () => {
  it('convert epochs, dates, case, JSON, strings and numbers', () => {
    expect(value({ path: 'data.created', transform: 'unix_seconds_to_iso' })).toBe('2023-11-14T22:13:20.000Z');
    expect(value({ const: '1700000000000', transform: 'unix_ms_to_iso' })).toBe('2023-11-14T22:13:20.000Z');
    expect(value({ const: '2026-01-01T01:00:00+01:00', transform: 'iso' })).toBe('2026-01-01T00:00:00.000Z');
    expect(value({ path: 'data.email', transform: 'lower' })).toBe('ada@example.com');
    expect(value({ path: 'data.email', transform: 'upper' })).toBe('ADA@EXAMPLE.COM');
    expect(value({ path: 'data.tags', transform: 'json' })).toBe('["a","b"]');
    expect(value({ path: 'data.tags', transform: 'string' })).toBe('["a","b"]');
    expect(value({ path: 'data.id', transform: 'string' })).toBe('cus_1');
    expect(value({ path: 'data.amount', transform: 'number' })).toBe(42);
  });

  it('apply a list in order', () => {
    expect(value({ path: 'data.created', transform: ['unix_seconds_to_iso', 'upper'] })).toBe(
      '2023-11-14T22:13:20.000Z'.toUpperCase(),
    );
    expect(value({ path: 'data.email', transform: ['json', 'lower'] })).toBe('"ada@example.com"');
  });

  it('fail with the value in the message, and without it in the log text (it may be personal data)', () => {
    const fail = (spec: Parameters<typeof compileValue>[0]) => {
      try {
        value(spec);
      } catch (error) {
        return error as MappingError;
      }
      throw new Error('expected a MappingError');
    };
    const notNumber = fail({ path: 'data.email', transform: 'number' });
    expect(notNumber).toBeInstanceOf(MappingError);
    expect(notNumber.message).toBe('path data.email: "Ada@Example.com" is not a number');
    expect(notNumber.logText).toBe('path data.email is not a number');
    expect(fail({ path: 'data.email', transform: 'iso' }).message).toBe(
      'path data.email: "Ada@Example.com" is not a date',
    );
    expect(fail({ path: 'data.email', transform: 'unix_seconds_to_iso' }).logText).toBe(
      'path data.email is not an epoch timestamp',
    );
  });

  it('refuse an unknown transform at compile time, listing the known ones', () => {
    // As a manifest written by hand would have it (the schema's enum is checked first, in validate).
    const typo: Parameters<typeof compileValue>[0] = JSON.parse('{ "path": "a", "transform": "trimm" }');
    expect(() => compileValue(typo)).toThrow(
      'unknown transform "trimm"; known: trim, unix_seconds_to_iso, unix_ms_to_iso, iso, json, lower, upper, string, number, money, decimal, divide, multiply, join, split, add, subtract, find, format_date',
    );
  });
});

describe('map', () => {
  const byType = { '2': { type: 5 }, '4': { type: 8, data: { choices: [] } }, customer: 'person', true: 'yes' };
  it('replaces the value by what it maps to, any JSON value; a number or boolean is looked up by its text', () => {
    expect(value({ const: 2, map: byType })).toEqual({ type: 5 });
    expect(value({ const: 4, map: byType })).toEqual({ type: 8, data: { choices: [] } });
    expect(value({ const: true, map: byType })).toBe('yes');
    // Looked up after the transforms.
    expect(value({ path: '@type', transform: 'lower', map: { 'customer.created': 'signup' } })).toBe('signup');
  });

  it('a value that is not a key takes the default, or is a MappingError naming the source (the value only in the message)', () => {
    expect(value({ const: 3, map: byType, default: { type: 6 } })).toEqual({ type: 6 });
    expect(value({ path: 'data.note', map: byType, default: 'none' })).toBe('none');
    let error: unknown;
    try {
      value({ path: 'data.email', map: byType });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).message).toBe('path data.email is "Ada@Example.com", not a key of its map');
    expect((error as MappingError).logText).toBe('path data.email is not a key of its map');
  });

  it('looks up own keys only: a value named like an Object property is not a key', () => {
    expect(() => value({ const: 'constructor', map: byType })).toThrow(MappingError);
    expect(() => value({ const: '__proto__', map: byType })).toThrow(MappingError);
  });
});

describe('transforms for derived values', () => {
  const at = (payload: unknown) => ({ payload, envelope: {}, lets: undefined }) as ValueContext;
  const read = (spec: Parameters<typeof compileValue>[0], payload: unknown) =>
    compileValue(spec, { allowEnvelope: true })(at(payload));
  it('formats minor units in the currency the event names, with its own digits', () => {
    expect(read({ path: 'amount', transform: [{ money: 'currency' }] }, { amount: 1999, currency: 'usd' })).toBe(
      '$19.99',
    );
    expect(read({ path: 'amount', transform: [{ money: 'currency' }] }, { amount: 500, currency: 'JPY' })).toBe('¥500');
    expect(read({ path: 'amount', transform: [{ money: { const: 'EUR' } }] }, { amount: 123456 })).toBe('€1,234.56');
    expect(read({ path: 'amount', transform: [{ decimal: 'currency' }] }, { amount: 1999, currency: 'usd' })).toBe(
      19.99,
    );
    expect(() =>
      read({ path: 'amount', transform: [{ money: 'currency' }] }, { amount: 1999, currency: 'dollars' }),
    ).toThrow(/is not a currency code/);
    expect(() =>
      read({ path: 'amount', transform: [{ money: 'currency' }] }, { amount: 'lots', currency: 'usd' }),
    ).toThrow(/is not an amount/);
  });
  it('joins, splits, divides, and dates', () => {
    expect(read({ path: 'tags', transform: [{ join: ', ' }, 'upper'] }, { tags: ['a', null, 'b'] })).toBe('A, B');
    expect(read({ path: 'csv', transform: [{ split: ',' }] }, { csv: 'a,b' })).toEqual(['a', 'b']);
    expect(read({ path: 'n', transform: [{ divide: 100 }] }, { n: 250 })).toBe(2.5);
    expect(
      read(
        { path: 'at', transform: ['unix_seconds_to_iso', { add: '7d' }, { format_date: 'D MMM YYYY, HH:mm' }] },
        { at: 1_796_212_800 },
      ),
    ).toBe('9 Dec 2026, 12:00');
    expect(read({ path: 'at', transform: [{ subtract: '1h' }] }, { at: '2026-12-07T10:00:00Z' })).toBe(
      '2026-12-07T09:00:00.000Z',
    );
    expect(read({ path: 'at', transform: [{ format_date: 'MMMM D, YYYY' }] }, { at: '2026-01-05T00:00:00Z' })).toBe(
      'January 5, 2026',
    );
  });
  it('finds the item of a list whose field equals a value of the event', () => {
    const clerk = {
      primary: 'idn_2',
      emails: [
        { id: 'idn_1', email: 'old@x.test' },
        { id: 'idn_2', email: 'ada@x.test' },
      ],
    };
    expect(read({ path: 'emails', transform: [{ find: { where: 'id', equals: 'primary' } }] }, clerk)).toEqual({
      id: 'idn_2',
      email: 'ada@x.test',
    });
    // None matches: the value is missing (a let reads undefined; a condition on it is false).
    expect(() =>
      read({ path: 'emails', transform: [{ find: { where: 'id', equals: { const: 'idn_9' } } }] }, clerk),
    ).toThrow(/path emails is missing/);
    expect(() => read({ path: 'primary', transform: [{ find: { where: 'id', equals: 'primary' } }] }, clerk)).toThrow(
      /is not a list/,
    );
  });

  it('reads a derived value ($name) and paths inside it', () => {
    const ctx = {
      payload: {},
      lets: (name: string) => (name === 'primary' ? { email: 'a@b.c' } : undefined),
    } as ValueContext;
    expect(compileValue('$primary.email')(ctx)).toBe('a@b.c');
    expect(compileValue({ template: 'to {$primary.email}' })(ctx)).toBe('to a@b.c');
    expect(() => compileValue('$other')(ctx)).toThrow(/\$other is missing/);
  });
});
