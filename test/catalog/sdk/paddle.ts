import { Paddle } from '@paddle/paddle-node-sdk';
import type { CatalogSdk } from '../../support/catalog.ts';

const paddle = new Paddle('pdl_sdbx_apikey_catalog');

export default {
  package: '@paddle/paddle-node-sdk',
  verify: async ({ secret, body, headers }) =>
    paddle.webhooks.isSignatureValid(body, secret, headers['paddle-signature']!),
} satisfies CatalogSdk;
