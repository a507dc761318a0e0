import { Signature } from '@hubspot/api-client';
import type { CatalogSdk } from '../../support/catalog.ts';

/** HubSpot's own v3 signature (Signature.getSignature / isValid): base64 HMAC of method + url + body + timestamp (ms). */
export default {
  package: '@hubspot/api-client',
  sign: async ({ secret, body, url, now }) => ({
    'x-hubspot-signature-v3': Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: secret,
      requestBody: body,
      url,
      timestamp: now,
    }),
    'x-hubspot-request-timestamp': String(now),
  }),
  verify: async ({ secret, body, url, headers }) => {
    try {
      return Signature.isValid({
        signatureVersion: 'v3',
        method: 'POST',
        signature: headers['x-hubspot-signature-v3'] ?? '',
        clientSecret: secret,
        requestBody: body,
        url,
        timestamp: Number(headers['x-hubspot-request-timestamp']),
      });
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
