import utils from 'razorpay/dist/utils/razorpay-utils.js';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/** The official SDK's validateWebhookSignature(body, X-Razorpay-Signature, secret) checks what the hmac scheme signed. */
export default {
  package: 'razorpay',
  verify: async ({ secret, body, headers }: SdkArgs) =>
    utils.validateWebhookSignature(body, header(headers, 'x-razorpay-signature'), secret),
} satisfies CatalogSdk;
