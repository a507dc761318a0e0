import { Webhook } from 'svix';
import type { CatalogSdk } from '../../support/catalog.ts';

/** Clerk delivers through Svix: the svix library is the reference signer and verifier. */
export default {
  package: 'svix',
  sign: async ({ secret, body, now }) => {
    const id = `msg_${crypto.randomUUID().replace(/-/g, '')}`;
    return { 'svix-id': id, 'svix-timestamp': String(Math.floor(now / 1000)), 'svix-signature': new Webhook(secret).sign(id, new Date(now), body) };
  },
  verify: async ({ secret, body, headers }) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
