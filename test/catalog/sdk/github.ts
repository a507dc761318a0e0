import { sign, verify } from '@octokit/webhooks-methods';
import type { CatalogSdk } from '../../support/catalog.ts';

export default {
  package: '@octokit/webhooks-methods',
  sign: async ({ secret, body }) => ({ 'x-hub-signature-256': await sign(secret, body) }),
  verify: async ({ secret, body, headers }) => verify(secret, body, headers['x-hub-signature-256']!),
} satisfies CatalogSdk;
