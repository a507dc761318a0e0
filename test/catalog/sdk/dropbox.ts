import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/**
 * Dropbox's own webhook sample app, ported: dropbox/mdwebhook app.py at 74d62ebe8007e94016f818d1bc752632eba2825b
 * (hex HMAC-SHA256 of the raw body keyed with the app secret, compared with X-Dropbox-Signature by hmac.compare_digest).
 */
export default {
  package: 'github:dropbox/mdwebhook',
  verify: async ({ secret, body, headers }: SdkArgs) => {
    const computed = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'));
    const given = Buffer.from(header(headers, 'x-dropbox-signature'));
    return given.length === computed.length && timingSafeEqual(given, computed);
  },
} satisfies CatalogSdk;
