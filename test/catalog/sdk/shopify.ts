import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import type { CatalogSdk } from '../../support/catalog.ts';

const shopify = (secret: string) =>
  shopifyApi({
    apiKey: 'catalog',
    apiSecretKey: secret,
    hostName: 'hooks.example.com',
    apiVersion: ApiVersion.July25,
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error },
  });

/** shopify.webhooks.validate (lib/webhooks/validate.ts): the base64 HMAC-SHA256 of the raw body, plus the headers it requires. */
export default {
  package: '@shopify/shopify-api',
  verify: async ({ secret, body, url, headers }) => {
    const rawRequest = new Request(url, { method: 'POST', headers, body });
    const result = await shopify(secret).webhooks.validate({ rawBody: body, rawRequest });
    return result.valid;
  },
} satisfies CatalogSdk;
