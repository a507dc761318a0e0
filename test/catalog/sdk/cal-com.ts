import { createHmac } from 'node:crypto';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/**
 * Cal.com's own sender, ported: calcom/cal.com packages/features/webhooks/lib/sendPayload.ts at
 * 008952de0ac2d35c3056ac98034e1012033c0867 (createWebhookSignature, sent as X-Cal-Signature-256 by _sendPayload).
 */
const createWebhookSignature = (params: { secret?: string | null; body: string }) =>
  params.secret ? createHmac('sha256', params.secret).update(`${params.body}`).digest('hex') : 'no-secret-provided';

export default {
  package: 'github:calcom/cal.com',
  sign: async ({ secret, body }: Omit<SdkArgs, 'headers'>) => ({
    'x-cal-signature-256': createWebhookSignature({ secret, body }),
  }),
} satisfies CatalogSdk;
