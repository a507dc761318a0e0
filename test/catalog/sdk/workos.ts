import { WorkOS } from '@workos-inc/node';
import type { CatalogSdk } from '../../support/catalog.ts';

const workos = () => new WorkOS('sk_test_catalog_cross_check');

/** WorkOS signs (computeSignature) and verifies (verifyHeader) `WorkOS-Signature: t=<ms>, v1=<hex>`. */
export default {
  package: '@workos-inc/node',
  sign: async ({ secret, body, now }) => {
    const signature = await workos().webhooks.computeSignature(String(now), body, secret);
    return { 'workos-signature': `t=${now}, v1=${signature}` };
  },
  verify: async ({ secret, body, headers }) => {
    try {
      return await workos().webhooks.verifyHeader({
        payload: body,
        sigHeader: headers['workos-signature'] ?? '',
        secret,
      });
    } catch {
      return false;
    }
  },
} satisfies CatalogSdk;
