/**
 * runtime/manifest/decide.ts: the one decision ingest, commands and `plan --budget` ask (the conformance matrix,
 * test/worker/conformance-matrix.test.ts, holds it to what the Worker does for every provider's sample).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { branches, branchOf, decide } from '../../runtime/manifest/decide.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { readmeShop } from '../support/matrix.ts';
import { ROOT } from '../support/project.ts';

const built = (file: string) =>
  (
    JSON.parse(readFileSync(join(ROOT, '.switchyard', file), 'utf8')) as {
      environments: { default: { manifest: Manifest } };
    }
  ).environments.default.manifest;
const compile = (manifest: Manifest) =>
  compileManifest(manifest, defaultRegistry, { inputValidator: (_name, schema) => compileInputSchema(schema) });

describe('decide: where an event goes and how it is deduplicated', () => {
  it('applies SQL, effect and enqueue steps in the request, deduplicated on the signed id', () => {
    const compiled = compile(built('manifests.json'));
    expect(decide(compiled.integrations.get('stripe')!, 'payment_intent.succeeded')).toMatchObject({
      path: 'direct',
      dedup: 'id',
    });
    expect(decide(compiled.integrations.get('stripe')!, 'no.handler.for.this')).toMatchObject({
      path: 'direct',
      dedup: 'id',
    });
    expect(decide(compiled.sources.get('track')!, 'page_view')).toMatchObject({
      path: 'queued',
      why: "a route's events travel in batches on the queue",
    });
  });

  it("records the body's hash when the id comes from an unsigned header, unless replay_window is 0s", () => {
    const shop = readmeShop();
    expect(decide(compile(shop).integrations.get('shop')!, 'orders/paid')).toEqual({
      path: 'direct',
      why: "every step commits in the event log's D1",
      dedup: 'id+body window',
    });
    (shop.integrations.shop as { replay_window?: string }).replay_window = '0s';
    expect(decide(compile(shop).integrations.get('shop')!, 'orders/paid')).toMatchObject({
      path: 'direct',
      dedup: 'id',
    });
  });

  it('queues apply: queue and steps that commit elsewhere; a synchronous command is delivered in the request', () => {
    const shop = readmeShop();
    (shop.integrations.shop as { apply?: string }).apply = 'queue';
    expect(decide(compile(shop).integrations.get('shop')!, 'orders/paid')).toMatchObject({
      path: 'queued',
      why: 'apply: queue',
    });
    const postgres = compile(built('postgres.json'));
    expect(decide(postgres.integrations.get('stripe')!, 'customer.subscription.updated')).toMatchObject({
      path: 'queued',
      why: expect.stringContaining('outside the event log'),
    });
    const examples = compile(built('examples.json'));
    expect(decide(examples.sources.get('command:create_payment_intent')!, 'create_payment_intent')).toMatchObject({
      path: 'direct',
      why: expect.stringContaining('synchronous'),
    });
    expect(decide(examples.integrations.get('asana')!, 'asana.events')).toMatchObject({ dedup: 'body hash' });
  });
});

describe('branches: the outcomes of a type whose handlers have conditions', () => {
  const withHandlers = (...handlers: unknown[]) => {
    const m = structuredClone(built('manifests.json'));
    m.integrations.stripe!.handlers = [
      ...(m.integrations.stripe!.handlers ?? []),
      ...(handlers as NonNullable<NonNullable<typeof m.integrations.stripe>['handlers']>),
    ];
    return compile(m)
      .integrations.get('stripe')!
      .handlers.filter((h) => h.matches('t.checkout'));
  };
  const sql = { sql: 'SELECT 1' };
  const payment = {
    on: 't.checkout',
    if: { path: 'data.object.mode', eq: 'payment' },
    steps: [sql, { ...sql, if: { path: 'data.object.email', exists: true } }],
  };
  const subscription = { on: 't.checkout', if: { path: 'data.object.mode', in: ['subscription'] }, steps: [sql] };
  const large = { on: 't.checkout', if: { path: 'data.object.amount_total', gt: 1000 }, steps: [sql] };

  it('prices conditions that need different values of one path apart, never together; skipped when none holds', () => {
    expect(
      branches(withHandlers(payment, subscription)).map((b) => [b.label, b.status, b.handlers, b.optional.length]),
    ).toEqual([
      ['if data.object.mode eq payment', 'applied', [0], 1],
      ['if data.object.mode in [subscription]', 'applied', [1], 0],
      ['skipped', 'skipped', [], 0],
    ]);
  });

  it('prices conditions that can hold together alone and together; with a handler without one, none holding still applies', () => {
    expect(
      branches(withHandlers(payment, large, { on: 't.checkout', steps: [sql] })).map((b) => [b.label, b.handlers]),
    ).toEqual([
      ['if data.object.mode eq payment', [0, 2]],
      ['if data.object.amount_total gt 1000', [1, 2]],
      ['if data.object.mode eq payment and if data.object.amount_total gt 1000', [0, 1, 2]],
      ['no condition holds', [2]],
    ]);
  });

  it('branchOf names the branch an event takes and the conditional steps it leaves out, as plan --budget labels them', () => {
    const handlers = withHandlers(payment, subscription);
    const of = (object: Record<string, unknown>) =>
      branchOf(handlers, { payload: { data: { object } }, envelope: { type: 't.checkout' } });
    const n = built('manifests.json').integrations.stripe!.handlers!.length;
    expect(of({ mode: 'payment', email: 'a@b.c' })).toEqual({ label: 'if data.object.mode eq payment', without: [] });
    expect(of({ mode: 'payment' })).toEqual({
      label: 'if data.object.mode eq payment',
      without: [`integrations.stripe.handlers[${n}].steps[1].if`],
    });
    expect(of({ mode: 'setup' })).toEqual({ label: 'skipped', without: [] });
  });
});
