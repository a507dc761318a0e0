import { createHmac } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/**
 * Checkout.com's own WooCommerce plugin, ported: checkout/checkout-woocommerce-plugin
 * includes/api/class-wc-checkoutcom-utility.php at 288148a82a4a3e82edff8a2616ce17cf94a2d254
 * (verify_signature: hash_hmac('sha256', raw event, key) === the cko-signature header).
 */
export default {
  package: 'github:checkout/checkout-woocommerce-plugin',
  verify: async ({ secret, body, headers }: SdkArgs) =>
    createHmac('sha256', secret).update(body).digest('hex') === header(headers, 'cko-signature'),
} satisfies CatalogSdk;
