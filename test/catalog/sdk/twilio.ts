import twilio from 'twilio';
import type { CatalogSdk } from '../../support/catalog.ts';

const fields = (body: string) => Object.fromEntries(new URLSearchParams(body));

export default {
  package: 'twilio',
  sign: async ({ secret, body, url }) => ({
    'x-twilio-signature': twilio.getExpectedTwilioSignature(secret, url, fields(body)),
  }),
  verify: async ({ secret, body, url, headers }) =>
    twilio.validateRequest(secret, headers['x-twilio-signature']!, url, fields(body)),
} satisfies CatalogSdk;
