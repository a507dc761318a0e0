import Stripe from 'stripe';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const stripe = new Stripe('sk_test_catalog');

export default {
  package: 'stripe',
  sign: async ({ secret, body, now }) => ({
    'stripe-signature': stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      timestamp: Math.floor(now / 1000),
    }),
  }),
  verify: async ({ secret, body, headers }: SdkArgs) => {
    try {
      stripe.webhooks.constructEvent(body, headers['stripe-signature']!, secret);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
