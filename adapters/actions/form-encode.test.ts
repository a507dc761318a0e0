/**
 * The http action's form encoding is Stripe's: checked against stripe-node itself, both its encoder and the body it
 * actually sends to a (local) API host for paymentIntents.create.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { formEncode } from './form-encode.ts';

// stripe-node's own encoder (not exported by the package: loaded from its file).
const require = createRequire(import.meta.url);
const { queryStringifyRequestData } = require(join(dirname(require.resolve('stripe')), 'utils.js')) as {
  queryStringifyRequestData: (data: unknown) => string;
};

describe('formEncode', () => {
  it.each([
    ['flat', { amount: 2000, currency: 'eur' }],
    [
      'nested objects',
      { metadata: { order_id: 'o_1', note: 'a b&c=d' }, automatic_payment_methods: { enabled: true } },
    ],
    [
      'arrays of objects',
      { items: [{ price: 'price_1', quantity: 2 }, { price: 'price_2' }], expand: ['latest_invoice'] },
    ],
    ['null, empty and odd characters', { description: null, statement: '', name: "Zoë (O'Brien)!*", skip: undefined }],
  ])('encodes %s exactly as stripe-node', (_, fields) => {
    expect(formEncode(fields as Record<string, unknown>)).toBe(queryStringifyRequestData(fields));
  });

  it('matches the body stripe-node sends for paymentIntents.create, headers included', async () => {
    let seen: { body: string; headers: IncomingMessage['headers'] } | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen = { body, headers: req.headers };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: 'pi_1', object: 'payment_intent', client_secret: 'pi_1_secret_x' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const stripe = new Stripe('sk_test_x', {
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
      await stripe.paymentIntents.create(
        {
          amount: 2000,
          currency: 'eur',
          automatic_payment_methods: { enabled: true },
          metadata: { order_id: 'ord_1' },
        },
        { idempotencyKey: 'k-1' },
      );
    } finally {
      server.close();
    }
    // The example manifest's fields, in its order, as the http action encodes them.
    expect(
      formEncode({
        amount: 2000,
        currency: 'eur',
        automatic_payment_methods: { enabled: true },
        'metadata[order_id]': 'ord_1',
      }),
    ).toBe(seen!.body);
    expect(seen!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen!.headers['idempotency-key']).toBe('k-1');
    expect(seen!.headers.authorization).toBe('Bearer sk_test_x');
  });
});
