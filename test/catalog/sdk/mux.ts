import Mux from '@mux/mux-node';
import type { CatalogSdk } from '../../support/catalog.ts';

/** Mux's own verifier (mux.webhooks.verifySignature): `mux-signature: t=..,v1=..`, at most 300 s old. */
export default {
  package: '@mux/mux-node',
  verify: async ({ secret, body, headers }) => {
    const mux = new Mux({ tokenId: 'test-token-id', tokenSecret: 'test-token-secret' });
    try {
      await mux.webhooks.verifySignature(body, headers, secret);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
