/**
 * `validate` and conditions (`if:`) and derived values (`let:`): a misspelt payload path, a comparison of a sample's
 * number with a string, and an unknown operator each fail at file:line:col with a hint. Paths are checked against
 * the integration's samples (samples/<integration>/<type>.json, else its provider's catalog sample).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../support/in-process.ts';
import { projectWith, ROOT } from '../support/project.ts';

/** A Stripe Checkout session as Stripe sends it (trimmed): what the tests' samples/ file holds. */
const CHECKOUT = {
  id: 'evt___ID__',
  object: 'event',
  created: '__NOW_S__',
  type: 'checkout.session.completed',
  livemode: false,
  data: {
    object: {
      id: 'cs_test___ID__',
      object: 'checkout.session',
      mode: 'payment',
      amount_total: 1999,
      currency: 'usd',
      client_reference_id: 'ord___ID__',
      customer: 'cus_sample',
      customer_details: { email: 'ada@example.com', name: 'Ada Lovelace', phone: null },
      metadata: { notify_sms: 'true' },
      payment_status: 'paid',
      line_items: [{ price: { id: 'price_1', unit_amount: 1999 }, quantity: 1 }],
    },
  },
};

/** A Clerk user.created with its addresses' verification (richer than the catalog's sample). */
const USER_CREATED = {
  object: 'event',
  type: 'user.created',
  timestamp: '__NOW_MS__',
  data: {
    id: 'user___ID__',
    first_name: 'Ada',
    email_addresses: [
      { id: 'idn_1', email_address: 'ada@example.com', verification: { status: 'verified', strategy: 'email_code' } },
    ],
  },
};

/** A manifest of its own (so the default manifest's edits never move these lines), with samples/ files beside it. */
function project(handlers: { stripe?: string; clerk?: string; stripeLet?: string }): { file: string; text: string } {
  const text = [
    'version: 1',
    'queues:',
    '  events: { binding: EVENTS_QUEUE, dead_letter: EVENTS_DLQ }',
    'integrations:',
    '  stripe:',
    '    provider: stripe',
    '    route: /webhooks/stripe',
    '    queue: events',
    ...(handlers.stripeLet ? [handlers.stripeLet] : []),
    '    handlers:',
    handlers.stripe ??
      '      - { on: payment_intent.succeeded, steps: [{ sql: "UPDATE orders SET status = \'paid\' WHERE id = :id", params: { id: data.object.metadata.order_id } }] }',
    '  clerk:',
    '    provider: clerk',
    '    route: /webhooks/clerk',
    '    queue: events',
    '    handlers:',
    handlers.clerk ??
      '      - { on: user.created, steps: [{ sql: "UPDATE users SET name = :name WHERE id = :id", params: { id: data.id, name: data.first_name } }] }',
    '',
  ].join('\n');
  const file = projectWith(text);
  const samples = join(dirname(file), 'samples');
  mkdirSync(join(samples, 'stripe'), { recursive: true });
  mkdirSync(join(samples, 'clerk'), { recursive: true });
  // As a samples/ file is written: time placeholders unquoted (they are numbers once filled).
  const json = (v: unknown) => JSON.stringify(v).replace(/"(__NOW_S__|__NOW_MS__)"/g, '$1');
  writeFileSync(join(samples, 'stripe', 'checkout.session.completed.json'), json(CHECKOUT));
  writeFileSync(join(samples, 'clerk', 'user.created.json'), json(USER_CREATED));
  return { file, text };
}

/** `line:col` of `word` in the first line of `text` that contains `snippet`. */
function at(text: string, snippet: string, word: string): string {
  const lines = text.split('\n');
  const n = lines.findIndex((l) => l.includes(snippet));
  if (n < 0) throw new Error(`no line with ${snippet}`);
  const column = lines[n]!.indexOf(word, lines[n]!.indexOf(snippet));
  return `${n + 1}:${column + 1}`;
}

/** The error (or warning) lines, with the temporary project's folder cut from the file name. */
const linesOf = (text: string, level: string) =>
  text
    .split('\n')
    .filter((l) => l.includes(`: ${level}`))
    .map((l) => l.replace(/^.*?integrations\.yaml:/, 'integrations.yaml:'));
const errorsOf = (stderr: string) => linesOf(stderr, 'error');
const warningsOf = (stdout: string) => linesOf(stdout, 'warning');

const checkout = (
  condition: string,
  steps = '[{ sql: "UPDATE orders SET status = \'paid\' WHERE id = :id", params: { id: data.object.client_reference_id } }]',
) => `      - on: checkout.session.completed\n        if: ${condition}\n        steps: ${steps}`;

describe('validate checks conditions and derived values against the samples', () => {
  it('a misspelt path in a handler condition: an error at the path, with the sample key it probably means', async () => {
    const { file, text } = project({ stripe: checkout('{ path: data.object.mod, eq: payment }') });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(text, 'if: {', 'data.object.mod')}: error [default]: integrations.stripe.handlers[0].if.path: data.object.mod is not in the stripe sample for checkout.session.completed (did you mean data.object.mode?)`,
    ]);
    // The caret is under the path.
    const [, source, caret] = stderr.split('\n');
    expect(source!.slice(2)).toBe('        if: { path: data.object.mod, eq: payment }');
    expect(caret!.indexOf('^') - 2).toBe(source!.slice(2).indexOf('data.object.mod'));
  });

  it('a misspelt segment in the middle of a path, and in a step condition inside all:', async () => {
    const steps = `\n          - sql: "UPDATE orders SET status = 'paid' WHERE id = :id"\n            params: { id: data.object.client_reference_id }\n            if: { all: [ { path: data.object.mode, eq: payment }, { path: data.objet.payment_status, eq: paid } ] }`;
    const { file, text } = project({ stripe: checkout('{ path: data.object.mode, eq: payment }', steps) });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(text, 'data.objet', 'data.objet')}: error [default]: integrations.stripe.handlers[0].steps[0].if.all[1].path: data.objet.payment_status is not in the stripe sample for checkout.session.completed (did you mean data.object.payment_status?)`,
    ]);
  });

  it("a misspelt path inside some: is checked against the list's items", async () => {
    const clerk =
      '      - on: user.created\n        if: { path: data.email_addresses, some: { path: verification.stauts, eq: verified } }\n        steps: [{ sql: "UPDATE users SET name = :name WHERE id = :id", params: { id: data.id, name: data.first_name } }]';
    const { file, text } = project({ clerk });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(text, 'some:', 'verification.stauts')}: error [default]: integrations.clerk.handlers[0].if.some.path: verification.stauts is not in the items of data.email_addresses in the clerk sample for user.created (did you mean verification.status?)`,
    ]);
  });

  it('a misspelt path in a let: value and in a step param', async () => {
    const stripeLet =
      '    let:\n      total: { path: data.object.amount_totl, transform: [{ money: data.object.currency }] }';
    const steps =
      '[{ sql: "UPDATE orders SET status = \'paid\' WHERE id = :id", params: { id: data.object.client_refrence_id } }]';
    const { file, text } = project({ stripeLet, stripe: checkout('{ path: data.object.mode, eq: payment }', steps) });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(text, 'total:', 'data.object.amount_totl')}: error [default]: integrations.stripe.let.total.path: data.object.amount_totl is not in the stripe samples for checkout.session.completed, payment_intent.succeeded (did you mean data.object.amount_total?)`,
      `integrations.yaml:${at(text, 'steps: [', 'data.object.client_refrence_id')}: error [default]: integrations.stripe.handlers[0].steps[0].params.id: data.object.client_refrence_id is not in the stripe sample for checkout.session.completed (did you mean data.object.client_reference_id?)`,
    ]);
  });

  it("a string compared with a sample's number or boolean: an error at the operator, saying how to write it", async () => {
    const condition =
      '{ all: [ { path: data.object.amount_total, eq: "1999" }, { path: livemode, eq: "false" }, { path: data.object.amount_total, gt: "2026-01-01" }, { path: "@occurred_at", gt: 1767225600 } ] }';
    const { file, text } = project({ stripe: checkout(condition) });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('if: { all')) + 1;
    const col = (word: string) => text.split('\n')[line - 1]!.indexOf(word) + 1;
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${line}:${col('"1999"')}: error [default]: integrations.stripe.handlers[0].if.all[0].eq: compares data.object.amount_total (a number in the stripe sample) to a string "1999": write 1999 without quotes`,
      `integrations.yaml:${line}:${col('"false"')}: error [default]: integrations.stripe.handlers[0].if.all[1].eq: compares livemode (a boolean in the stripe sample) to a string "false": write false without quotes`,
      `integrations.yaml:${line}:${col('"2026-01-01"')}: error [default]: integrations.stripe.handlers[0].if.all[2].gt: compares data.object.amount_total (a number in the stripe sample) to a string "2026-01-01": compare it with a number`,
      // The envelope's fields are typed without a sample: its times are ISO-8601 strings.
      `integrations.yaml:${line}:${col('1767225600')}: error [default]: integrations.stripe.handlers[0].if.all[3].gt: compares @occurred_at (a string in the envelope) to a number 1767225600: compare it with a date ("2026-01-01")`,
    ]);
  });

  it('a number compared with a form field (always a string): write it in quotes', async () => {
    const text =
      'version: 1\nqueues:\n  events: { binding: EVENTS_QUEUE, dead_letter: EVENTS_DLQ }\nintegrations:\n  twilio:\n    provider: twilio\n    route: /webhooks/twilio\n    queue: events\n    handlers:\n      - on: message.*\n        if: { path: ApiVersion, in: [2010-04-01] }\n        steps: [{ sql: "UPDATE sms_logs SET status = :status WHERE sid = :sid", params: { sid: MessageSid, status: MessageStatus } }]\n';
    // YAML reads 2010-04-01 unquoted as a string here (core schema): clean. A number is not.
    expect((await validate(['--env', 'default', projectWith(text)])).code).toBe(0);
    const numeric = text.replace('in: [2010-04-01]', 'in: [2010, 2011]');
    const { code, stderr } = await validate(['--env', 'default', projectWith(numeric)]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(numeric, 'in: [', '2010')}: error [default]: integrations.twilio.handlers[0].if.in[0]: compares ApiVersion (a string in the twilio sample) to a number 2010: write "2010" in quotes`,
    ]);
  });

  it('an unknown operator, on a handler and on a step: one error at the key, with the operator it probably means', async () => {
    const steps = `\n          - sql: "UPDATE orders SET status = 'paid' WHERE id = :id"\n            params: { id: data.object.client_reference_id }\n            if: { path: data.object.payment_status, equal: paid }`;
    const { file, text } = project({ stripe: checkout('{ path: data.object.mode, equals: payment }', steps) });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(text, 'if: { path: data.object.mode', 'equals')}: error [default]: integrations.stripe.handlers[0].if.equals: unknown operator "equals" (did you mean "eq"?); operators: eq, ne, in, not_in, gt, gte, lt, lte, starts_with, ends_with, contains, exists, some, every; or all, any, not`,
      `integrations.yaml:${at(text, 'equal: paid', 'equal')}: error [default]: integrations.stripe.handlers[0].steps[0].if.equal: unknown operator "equal" (did you mean "eq"?); operators: eq, ne, in, not_in, gt, gte, lt, lte, starts_with, ends_with, contains, exists, some, every; or all, any, not`,
    ]);
  });

  it('an unknown $name and an unknown @field in a condition: errors at the path, with the nearest name', async () => {
    const stripeLet = '    let:\n      total: { path: data.object.amount_total }';
    const { file, text } = project({
      stripeLet,
      stripe: checkout('{ all: [ { path: $totl, gt: 1000 }, { path: "@tpye", eq: checkout.session.completed } ] }'),
    });
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(errorsOf(stderr)).toEqual([
      `integrations.yaml:${at(text, 'if: {', '$totl')}: error [default]: integrations.stripe.handlers[0].if.all[0].path: $totl is not a derived value in scope (did you mean "total"?); let: names $total`,
      `integrations.yaml:${at(text, 'if: {', '"@tpye"')}: error [default]: integrations.stripe.handlers[0].if.all[1].path: unknown envelope field @tpye (did you mean "@type"?); known: @id, @type, @integration, @occurred_at, @received_at, @version`,
    ]);
  });

  it('stays quiet where a sample cannot say: optional fields it lacks, open maps, other types, paths it has', async () => {
    const condition = [
      '{ all: [',
      '{ path: data.object.mode, eq: payment },',
      '{ path: data.object.amount_total, gte: 1000 },',
      '{ path: livemode, eq: false },',
      '{ path: data.object.customer_details.email, exists: true },',
      '{ path: data.object.customer_details.phone, eq: "+15555550100" },',
      '{ path: data.object.shipping_details.address.country, in: [US, CA] },',
      '{ path: data.object.metadata.notify_sms, eq: "true" },',
      '{ path: data.object.line_items, some: { path: price.unit_amount, gt: 100 } },',
      '{ path: data.object.total_details.amount_tax, gt: 0 },',
      '{ path: "@occurred_at", gte: "2026-01-01" },',
      '{ path: data.object.currency, eq: { path: data.object.presentment_currency } }',
      '] }',
    ].join(' ');
    const stripeLet =
      '    let:\n      total: { path: data.object.amount_total, transform: [{ money: data.object.currency }] }';
    const { file } = project({ stripeLet, stripe: checkout(condition) });
    const { code, stderr, stdout } = await validate(['--env', 'default', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(warningsOf(stdout)).toEqual([]);
  });

  it("warns (does not fail) for a near miss under an open map (metadata: keys are the sender's own)", async () => {
    const { file, text } = project({ stripe: checkout('{ path: data.object.metadata.notify_sm, eq: "true" }') });
    const { code, stdout } = await validate(['--env', 'default', file]);
    expect(code).toBe(0);
    expect(warningsOf(stdout)).toEqual([
      `integrations.yaml:${at(text, 'if: {', 'data.object.metadata.notify_sm')}: warning [default]: integrations.stripe.handlers[0].if.path: data.object.metadata.notify_sm is not in the stripe sample for checkout.session.completed (did you mean data.object.metadata.notify_sms?); metadata holds the sender's own keys, so the sample may not show them all`,
    ]);
  });

  it('the default manifest and the examples stay clean (no new problem or warning)', async () => {
    const run = async (file: string) => {
      const { code, stderr, stdout } = await validate([file]);
      return { code, stderr, warnings: warningsOf(stdout).filter((l) => / is not in | compares /.test(l)) };
    };
    for (const file of ['integrations.yaml', 'examples/more-providers.yaml', 'examples/postgres.yaml']) {
      expect(await run(join(ROOT, file)), file).toEqual({ code: 0, stderr: '', warnings: [] });
    }
  });
});
