import { verifyKey } from 'discord-interactions';
import type { CatalogSdk } from '../../support/catalog.ts';

export default {
  package: 'discord-interactions',
  verify: async ({ secret, body, headers }) =>
    verifyKey(body, headers['x-signature-ed25519']!, headers['x-signature-timestamp']!, secret),
} satisfies CatalogSdk;
