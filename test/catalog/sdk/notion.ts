import { signWebhookPayload, verifyWebhookSignature } from '@notionhq/client';
import type { CatalogSdk } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

/** @notionhq/client signs (signWebhookPayload) and verifies (verifyWebhookSignature) X-Notion-Signature. */
export default {
  package: '@notionhq/client',
  sign: async ({ secret, body }) => ({
    'x-notion-signature': await signWebhookPayload({ body, verificationToken: secret }),
  }),
  verify: async ({ secret, body, headers }) =>
    verifyWebhookSignature({ body, signature: header(headers, 'x-notion-signature'), verificationToken: secret }),
} satisfies CatalogSdk;
