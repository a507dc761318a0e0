import { createHmac } from 'node:crypto';
import type { CatalogSdk } from '../../support/catalog.ts';

/**
 * Vercel publishes no npm package that verifies webhooks (@vercel/sdk only manages them); this ports the check in
 * Vercel's reference integration, vercel/example-marketplace-integration app/webhook/route.ts @
 * 01d0817cbbae371581c28336084eaadd32fd9c22: hex HMAC-SHA1 of the raw body, keyed with the integration's client
 * secret, compared with x-vercel-signature.
 */
const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

export default {
  package: 'github:vercel/example-marketplace-integration',
  verify: async ({ secret, body, headers }) => {
    const bodySignature = createHmac('sha1', secret)
      .update(new Uint8Array(Buffer.from(body, 'utf-8')))
      .digest('hex');
    return bodySignature === header(headers, 'x-vercel-signature');
  },
} satisfies CatalogSdk;
