/**
 * Every backfill source the catalog ships is data that must fit its own provider's envelope: a realistic listed
 * object, synthesised by the source's template, is read by the integration's extraction (the same code ingest runs)
 * as the declared event type, with the object's own id and a time, and reconcile's columns read from it.
 */
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../worker/registry.ts';
import { loadCatalog } from '../catalog.ts';
import { checkSource } from './sources.ts';
import { synthesise, wanted } from './template.ts';
import { extractEnvelope } from '../../../runtime/event/extract.ts';
import { applyPreset } from '../../../runtime/manifest/catalog.ts';
import { compileManifest } from '../../../runtime/manifest/compile.ts';
import type { Manifest } from '../../../runtime/manifest/types.gen.ts';
import { compileValue } from '../../../runtime/language/values.ts';

/** Objects as each list endpoint returns them (shapes from the providers' API references). */
const OBJECTS: Record<string, Record<string, unknown>> = {
  'stripe.subscriptions': {
    id: 'sub_1MowQVLkdIwHu7ixeRlqHVzs',
    object: 'subscription',
    customer: 'cus_NffrFeUfNV2Hib',
    status: 'active',
    created: 1679609767,
    current_period_end: 1682288167,
    livemode: false,
    items: { object: 'list', data: [{ id: 'si_1', price: { id: 'price_1Mow' } }] },
  },
  'stripe.customers': {
    id: 'cus_NffrFeUfNV2Hib',
    object: 'customer',
    email: 'jennyrosen@example.com',
    created: 1680893993,
    livemode: false,
  },
  'stripe.invoices': {
    id: 'in_1MtHbELkdIwHu7ixl4OzzPMv',
    object: 'invoice',
    customer: 'cus_NeZwdNtLEOXuvB',
    status: 'draft',
    created: 1680644467,
    livemode: false,
  },
  'stripe.payment_intents': {
    id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
    object: 'payment_intent',
    amount: 2000,
    status: 'succeeded',
    created: 1680800504,
    livemode: false,
    metadata: { order_id: 'ord_1' },
  },
  'clerk.users': {
    id: 'user_29w83sxmDNGwOuEthce5gg56FcC',
    object: 'user',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_addresses: [{ id: 'idn_1', email_address: 'ada@example.com' }],
    created_at: 1654012591514,
    updated_at: 1654012591835,
  },
  'paddle.subscriptions': {
    id: 'sub_01hv8y5ehszzq0yv20ttx3166y',
    status: 'active',
    customer_id: 'ctm_01hv6y1jedq4p1n0yqn5ba3ky4',
    created_at: '2024-04-12T10:18:47.635628Z',
    updated_at: '2024-04-12T11:24:54.868Z',
    current_billing_period: { starts_at: '2024-04-12T10:18:47.635628Z', ends_at: '2024-05-12T10:18:47.635628Z' },
    items: [{ price: { id: 'pri_01gsz8x8sawmvhz1pv30nge1ke' } }],
  },
  'paddle.customers': {
    id: 'ctm_01hv6y1jedq4p1n0yqn5ba3ky4',
    email: 'weloveyourproduct@paddle.com',
    status: 'active',
    created_at: '2024-04-11T15:57:24.813Z',
    updated_at: '2024-04-11T15:59:56.658719Z',
  },
  'supabase.users': {
    id: '6baa6b4e-9e16-4d0e-8b6d-0a0c3e1b7f2a',
    aud: 'authenticated',
    email: 'ada@example.com',
    user_metadata: { plan: 'pro' },
    created_at: '2024-01-02T03:04:05.123456Z',
    updated_at: '2024-02-03T04:05:06.654321Z',
  },
};

const catalog = loadCatalog();
const withSources = [...catalog.entries.values()].filter((e) => e.sources);

describe('catalog backfill sources', () => {
  it('ships the sources the issue names', () => {
    expect(Object.fromEntries(withSources.map((e) => [e.name, Object.keys(e.sources!).sort()]))).toEqual({
      clerk: ['users'],
      paddle: ['customers', 'subscriptions'],
      stripe: ['customers', 'invoices', 'payment_intents', 'subscriptions'],
      supabase: ['users'],
    });
  });

  for (const entry of withSources) {
    for (const [name, source] of Object.entries(entry.sources!)) {
      it(`${entry.name} ${name}: the synthesised event is read by the ${entry.name} envelope as ${source.event.type}`, () => {
        expect(checkSource(source)).toEqual([]);
        const object = OBJECTS[`${entry.name}.${name}`]!;
        expect(object).toBeDefined();
        expect(wanted(source, object)).toBe(true);
        const integration = applyPreset(
          { provider: entry.name, route: `/webhooks/${entry.name}`, queue: 'events' },
          entry,
        );
        const compiled = compileManifest(
          {
            version: 1,
            queues: { events: { binding: 'EVENTS_QUEUE' } },
            integrations: { [entry.name]: integration },
          } as unknown as Manifest,
          defaultRegistry,
        ).integrations.get(entry.name)!;
        const fetchedAt = Date.parse('2026-01-01T00:00:00Z');
        const event = synthesise(source, object, fetchedAt);
        const envelope = extractEnvelope(
          compiled,
          JSON.stringify(event.body),
          new Headers(event.headers ?? {}),
          new Date().toISOString(),
        );
        expect(envelope.type).toBe(source.event.type);
        expect(envelope.id).toBe(event.id);
        expect(envelope.id).toContain(String(object.id));
        expect(envelope.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT/);
        // The same object gives the same id (written once); another state, another id.
        expect(synthesise(source, object, fetchedAt + 60_000).id).toBe(event.id);
        expect(
          synthesise(
            source,
            { ...object, status: 'x', updated_at: entry.name === 'stripe' ? undefined : '2030-01-01T00:00:00Z' },
            fetchedAt,
          ).id,
        ).not.toBe(event.id);
        for (const [column, spec] of Object.entries(source.reconcile?.columns ?? {}))
          expect(compileValue(spec)({ payload: object }), column).not.toBeUndefined();
      });
    }
  }

  it('a payment intent that did not succeed is listed and skipped, never sent as payment_intent.succeeded', () => {
    const source = catalog.entries.get('stripe')!.sources!.payment_intents!;
    expect(wanted(source, { ...OBJECTS['stripe.payment_intents'], status: 'requires_payment_method' })).toBe(false);
  });
});
