/** Resend's tags and a sender from a Worker variable, in the wire format Resend's API documents. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { resendTagValue } from '../../adapters/actions/resend.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest, ResendAction, Step } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, harness, uid } from '../support/harness.ts';

const envelope = (object: Record<string, unknown>, id = uid('evt')): Envelope => ({
  integration: 'stripe',
  id,
  type: 'order.confirmed',
  occurred_at: '2024-06-01T12:00:00.000Z',
  received_at: '2024-06-01T12:00:01.000Z',
  payload: { id, data: { object } },
});

function manifest(step: Step): Manifest {
  const m = structuredClone(defaultManifest);
  m.integrations = { stripe: { ...m.integrations.stripe!, apply: 'queue', handlers: [{ on: '*', steps: [step] }] } };
  return m;
}

const email: Omit<ResendAction, 'from'> = {
  action: 'resend',
  to: 'data.object.email',
  subject: 'Order {{ id }}',
  text: 'Thanks',
  data: { id: 'data.object.id' },
  api_key: 'RESEND_API_KEY',
};

function setup(step: Step, vars: Record<string, unknown> = { RESEND_FROM: 'Acme Orders <orders@example.com>' }) {
  const fake = new FakeProviders();
  const h = harness({ compiled: compileManifest(manifest(step), defaultRegistry), fetch: fake.fetch, env: vars });
  return { fake, h };
}

describe('resend tags', () => {
  it('sends tags as [{name, value}]: constants as written, event values made to fit Resend rules', async () => {
    const { fake, h } = setup({
      ...email,
      from: 'Acme <hello@example.com>',
      tags: {
        category: 'order_confirmation',
        plan: { path: 'data.object.plan' },
        customer: { path: 'data.object.customer' },
      },
    });
    await h.consume([
      fakeMessage(envelope({ email: 'ada@example.com', id: 'o_1', plan: 'Pro Plan (yearly)', customer: 'cus_123' })),
    ]);
    const [req] = fake.to(/api\.resend\.com\/emails$/);
    expect((req!.json as { tags: unknown }).tags).toEqual([
      { name: 'category', value: 'order_confirmation' },
      { name: 'plan', value: 'Pro_Plan__yearly_' },
      { name: 'customer', value: 'cus_123' },
    ]);
  });

  it('puts each email’s tags in a batch call', async () => {
    const { fake, h } = setup({
      ...email,
      from: 'Acme <hello@example.com>',
      tags: { plan: { path: 'data.object.plan' } },
    });
    await h.consume([
      fakeMessage(envelope({ email: 'a@example.com', id: 'o_1', plan: 'pro' })),
      fakeMessage(envelope({ email: 'b@example.com', id: 'o_2', plan: 'team' })),
    ]);
    const [batch] = fake.to(/api\.resend\.com\/emails\/batch$/);
    expect((batch!.json as { to: string[]; tags: unknown }[]).map((e) => [e.to[0], e.tags])).toEqual([
      ['a@example.com', [{ name: 'plan', value: 'pro' }]],
      ['b@example.com', [{ name: 'plan', value: 'team' }]],
    ]);
  });

  it.each<[string, Record<string, string>]>([
    ['a space in a name', { 'order type': 'x' }],
    ['a dot in a constant value', { category: 'order.confirmed' }],
    ['a name over 256 characters', { ['n'.repeat(257)]: 'x' }],
  ])('refuses %s at load time', (_name, tags) => {
    expect(() =>
      compileManifest(manifest({ ...email, from: 'Acme <hello@example.com>', tags }), defaultRegistry),
    ).toThrow(ManifestError);
  });

  it('fits any value to the rule: other characters become _, at most 256 characters, never empty', () => {
    expect(resendTagValue('ada@example.com')).toBe('ada_example_com');
    expect(resendTagValue('x'.repeat(300))).toHaveLength(256);
    expect(resendTagValue('')).toBe('_');
    expect(resendTagValue(42)).toBe('42');
  });
});

describe('resend from a Worker variable', () => {
  it('reads the sender from the variable when the email is sent', async () => {
    const { fake, h } = setup({ ...email, from: { env: 'RESEND_FROM' } });
    await h.consume([fakeMessage(envelope({ email: 'ada@example.com', id: 'o_1' }))]);
    const [req] = fake.to(/api\.resend\.com\/emails$/);
    expect(req!.json).toMatchObject({
      from: 'Acme Orders <orders@example.com>',
      to: ['ada@example.com'],
      subject: 'Order o_1',
    });
  });

  it('keeps the event applied and dead-letters the email, naming the variable, when it is not set', async () => {
    const { fake, h } = setup({ ...email, from: { env: 'RESEND_FROM' } }, { RESEND_FROM: '' });
    const m = fakeMessage(envelope({ email: 'ada@example.com', id: 'o_2' }));
    await h.consume([m]);
    expect(m.acked).toBe(true);
    expect(fake.to(/api\.resend\.com/)).toHaveLength(0);
    const id = (m.body as Envelope).id;
    expect(
      await env.DB.prepare('SELECT status FROM events WHERE integration = ?1 AND id = ?2').bind('stripe', id).first(),
    ).toEqual({ status: 'applied' });
    expect(
      await env.DB.prepare('SELECT status, error FROM effects WHERE integration = ?1 AND event_id = ?2')
        .bind('stripe', id)
        .first(),
    ).toEqual({ status: 'dead_lettered', error: 'resend: the sender variable RESEND_FROM is not set' });
  });
});
