import { basicAuthValidator } from 'chargebee';
import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/** chargebee-node's basicAuthValidator (the check its webhook handler runs) accepts the Basic credentials the scheme sends. */
export default {
  package: 'chargebee',
  verify: async ({ secrets = [], headers }: SdkArgs) => {
    const [username, password] = secrets;
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    try {
      await basicAuthValidator((u, p) => u === username && p === password)(lower);
      return true;
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
