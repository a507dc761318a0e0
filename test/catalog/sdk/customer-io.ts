import { verifyRequestSignature } from 'customerio-node';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/** customerio-node's verifyRequestSignature (HMAC-SHA256 of `v0:<X-CIO-Timestamp>:<body>`, hex) checks what the hmac scheme signed. */
export default {
  package: 'customerio-node',
  verify: async ({ secret, body, headers }: SdkArgs) =>
    verifyRequestSignature({
      signingSecret: secret,
      timestamp: header(headers, 'x-cio-timestamp'),
      signature: header(headers, 'x-cio-signature'),
      body,
    }),
} satisfies CatalogSdk;
