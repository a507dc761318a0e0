import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/**
 * Mailgun's own PHP SDK, ported: mailgun/mailgun-php src/Api/Webhook.php at 3f20c151a28e568cb5071f0d0ada914c4aa5fe6c
 * (verifyWebhookSignature: false when any part is empty, else hash_equals(hash_hmac('sha256', timestamp.token, key),
 * signature)), fed the body's `signature` block as a receiver would. mailgun.js has no such helper.
 */
function verifyWebhookSignature(signingKey: string, timestamp: string, token: string, signature: string): boolean {
  if (!timestamp || timestamp === '0' || !token || !signature || !signingKey) return false;
  const hmac = Buffer.from(createHmac('sha256', signingKey).update(`${timestamp}${token}`).digest('hex'));
  return hmac.length === signature.length && timingSafeEqual(hmac, Buffer.from(signature));
}

export default {
  package: 'github:mailgun/mailgun-php',
  verify: async ({ secret, body }: SdkArgs) => {
    const { signature } = JSON.parse(body) as {
      signature?: { timestamp?: string; token?: string; signature?: string };
    };
    return verifyWebhookSignature(
      secret,
      String(signature?.timestamp ?? ''),
      signature?.token ?? '',
      signature?.signature ?? '',
    );
  },
} satisfies CatalogSdk;
