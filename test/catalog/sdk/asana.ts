import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/**
 * Asana's own webhook example server, ported: Asana/devrel-examples python/webhooks_v5/server.py at
 * 52783fb99d8a70928ab7ded72863d9cdaec50f22 (hex HMAC-SHA256 of the raw body keyed with the X-Hook-Secret of the
 * handshake, compared with X-Hook-Signature by hmac.compare_digest).
 */
export default {
  package: 'github:Asana/devrel-examples',
  verify: async ({ secret, body, headers }: SdkArgs) => {
    const computed = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'));
    const given = Buffer.from(header(headers, 'x-hook-signature'));
    return given.length === computed.length && timingSafeEqual(given, computed);
  },
} satisfies CatalogSdk;
