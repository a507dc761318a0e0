import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/**
 * Lemon Squeezy's own billing starter, ported: lmsqueezy/nextjs-billing src/app/api/webhook/route.ts at
 * bc3bd1101f71aa01092eaefd456c0aed8466328a (X-Signature hex-decoded, compared with the HMAC-SHA256 of the raw body
 * keyed with the signing secret by timingSafeEqual; that throws on a length mismatch, a refusal here).
 */
export default {
  package: 'github:lmsqueezy/nextjs-billing',
  verify: async ({ secret, body, headers }: SdkArgs) => {
    const signature = Buffer.from(header(headers, 'x-signature'), 'hex');
    const hmac = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'), 'hex');
    return signature.length === hmac.length && timingSafeEqual(hmac, signature);
  },
} satisfies CatalogSdk;
