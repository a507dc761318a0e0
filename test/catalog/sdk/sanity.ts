import { encodeSignatureHeader, isValidSignature, SIGNATURE_HEADER_NAME } from '@sanity/webhook';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

/** @sanity/webhook signs (t=<ms>,v1=<base64url>) and verifies; our hmac preset must agree both ways. */
export default {
  package: '@sanity/webhook',
  sign: async ({ secret, body, now }: Omit<SdkArgs, 'headers'>) => ({
    [SIGNATURE_HEADER_NAME]: await encodeSignatureHeader(body, now, secret),
  }),
  verify: async ({ secret, body, headers }: SdkArgs) =>
    isValidSignature(body, header(headers, SIGNATURE_HEADER_NAME), secret),
} satisfies CatalogSdk;
