import utils from 'razorpay/dist/utils/razorpay-utils.js';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const text = (body: SdkArgs['body']) => (typeof body === 'string' ? body : new TextDecoder().decode(body));
const header = (headers: Record<string, string>, name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/** The official SDK's validateWebhookSignature(body, X-Razorpay-Signature, secret) checks what the hmac scheme signed. */
export default {
  package: 'razorpay',
  verify: async ({ secret, body, headers }: SdkArgs) => utils.validateWebhookSignature(text(body), header(headers, 'x-razorpay-signature'), secret),
} satisfies CatalogSdk;
