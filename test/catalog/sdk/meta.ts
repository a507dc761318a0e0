import { createHmac } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/**
 * Meta's own WhatsApp sample app, ported: fbsamples/whatsapp-business-jaspers-market app.js at
 * 4837f4315f3c5710339811bf3772f1bd062049db (verifyRequestSignature: the hash after `=` in X-Hub-Signature-256 against
 * the hex HMAC-SHA256 of the raw body keyed with the app secret). The sample only warns on a missing header; here
 * that is a refusal.
 */
export default {
  package: 'github:fbsamples/whatsapp-business-jaspers-market',
  verify: async ({ secret, body, headers }: SdkArgs) => {
    const signature = header(headers, 'x-hub-signature-256');
    if (!signature) return false;
    const signatureHash = signature.split('=')[1];
    return signatureHash === createHmac('sha256', secret).update(body).digest('hex');
  },
} satisfies CatalogSdk;
