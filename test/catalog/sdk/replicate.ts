import { validateWebhook } from 'replicate';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/** Replicate's own validateWebhook() checks what the standard-webhooks scheme signed (it does not check the timestamp). */
export default {
  package: 'replicate',
  verify: async ({ secret, body, headers }: SdkArgs) =>
    validateWebhook({
      id: header(headers, 'webhook-id'),
      timestamp: header(headers, 'webhook-timestamp'),
      signature: header(headers, 'webhook-signature'),
      body: body,
      secret,
    }),
} satisfies CatalogSdk;
