/** examples/more-providers.yaml validates (vitest.config builds it) and each integration works end to end. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { paddleClassicSignedData } from '../../adapters/verifiers/paddle-classic.ts';
import { sha256, toBase64, toHex } from '../../runtime/lib/bytes.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { harness, queuedOnly, uid } from '../support/harness.ts';
import { shopifySignature } from '../support/sign.ts';

const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
const S = env.TEST_SECRETS;

/** Raw r||s (what WebCrypto signs) to DER (what SendGrid sends). */
function p1363ToDer(raw: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = bytes.subarray(i);
    return trimmed[0]! & 0x80 ? [0x02, trimmed.length + 1, 0, ...trimmed] : [0x02, trimmed.length, ...trimmed];
  };
  const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

describe('examples/more-providers.yaml', () => {
  it('serves Shopify through the generic hmac verifier (base64)', async () => {
    const h = harness({ compiled: compileManifest(queuedOnly(manifest), defaultRegistry) });
    const body = JSON.stringify({ id: 820982911946154500, total_price: '12.00' });
    const id = uid('shop');
    const headers = {
      'x-shopify-hmac-sha256': await shopifySignature(S.SHOPIFY_WEBHOOK_SECRET!, body),
      'x-shopify-webhook-id': id,
      'x-shopify-topic': 'orders/paid',
      'x-shopify-triggered-at': '2024-05-01T10:00:00.123456Z',
    };
    expect((await h.post('/webhooks/shopify', body, headers)).status).toBe(202);
    expect(h.queue.messages[0]).toMatchObject({
      integration: 'shopify',
      id,
      type: 'orders/paid',
      occurred_at: '2024-05-01T10:00:00.123Z',
    });
    expect((await h.post('/webhooks/shopify', body.replace('12', '13'), headers)).status).toBe(401);
  });

  it('serves Paddle Classic alerts (RSA-SHA1 over PHP-serialized fields)', async () => {
    const keys = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-1' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const spki = toBase64(new Uint8Array((await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer));
    const h = harness({
      compiled: compileManifest(queuedOnly(manifest), defaultRegistry),
      env: { PADDLE_CLASSIC_PUBLIC_KEY: spki },
    });
    const fields: [string, string][] = [
      ['alert_name', 'subscription_created'],
      ['alert_id', uid('a')],
      ['subscription_id', '77'],
      ['status', 'active'],
      ['email', 'zoë@example.com'],
    ];
    const signature = new Uint8Array(
      await crypto.subtle.sign(
        'RSASSA-PKCS1-v1_5',
        keys.privateKey,
        new TextEncoder().encode(paddleClassicSignedData(fields)),
      ),
    );
    const body = new URLSearchParams([...fields, ['p_signature', toBase64(signature)]]).toString();
    const res = await h.post('/webhooks/paddle-classic', body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(202);
    expect(h.queue.messages[0]).toMatchObject({
      integration: 'paddle_classic',
      id: fields[1]![1],
      type: 'subscription_created',
    });
  });

  it('serves SendGrid event batches (ECDSA, DER signature)', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const spki = toBase64(new Uint8Array((await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer));
    const h = harness({
      compiled: compileManifest(queuedOnly(manifest), defaultRegistry),
      env: { SENDGRID_WEBHOOK_PUBLIC_KEY: spki },
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const eventId = uid('sg');
    const body =
      JSON.stringify([{ email: 'a@example.com', event: 'delivered', sg_event_id: eventId, timestamp: 1_714_557_600 }]) +
      '\r\n';
    const raw = new Uint8Array(
      await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        keys.privateKey,
        new TextEncoder().encode(ts + body),
      ),
    );
    const headers = {
      'x-twilio-email-event-webhook-signature': toBase64(p1363ToDer(raw)),
      'x-twilio-email-event-webhook-timestamp': ts,
    };
    expect((await h.post('/webhooks/sendgrid', body, headers)).status).toBe(202);
    expect(h.queue.messages[0]).toMatchObject({
      integration: 'sendgrid',
      id: eventId,
      type: 'sendgrid.events',
      occurred_at: '2024-05-01T10:00:00.000Z',
    });
    expect((await h.post('/webhooks/sendgrid', body, headers)).status).toBe(409);
  });

  it('serves plain Supabase Database Webhooks with a shared token header', async () => {
    const h = harness({ compiled: compileManifest(queuedOnly(manifest), defaultRegistry) });
    const userId = uid('u');
    const body = JSON.stringify({
      type: 'INSERT',
      table: 'users',
      schema: 'public',
      record: { id: userId, email: 'b@example.com' },
      old_record: null,
    });
    expect(
      (await h.post('/webhooks/supabase-db', body, { 'x-webhook-token': S.SUPABASE_DB_WEBHOOK_TOKEN! })).status,
    ).toBe(202);
    // The record has no updated_at: the id is the body's hash, never `users:INSERT:<id>:` with an empty part.
    expect(h.queue.messages[0]).toMatchObject({ id: toHex(await sha256(body)), type: 'users.insert' });
    expect((await h.post('/webhooks/supabase-db', body, { 'x-webhook-token': 'guess' })).status).toBe(401);
  });
});
