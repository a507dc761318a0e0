import type { CatalogSdk, SdkArgs } from '../../support/catalog.ts';

/**
 * GitLab's own sender, ported: gitlabhq/gitlabhq app/services/web_hook_service.rb at
 * 017a6c129d6a9e4ad9fec792cd84f88641d7dbfe (build_headers: the token verbatim in X-Gitlab-Token, line breaks removed by
 * Gitlab::Utils.remove_line_breaks, beside Idempotency-Key, X-Gitlab-Event, X-Gitlab-Event-UUID and X-Gitlab-Instance).
 * Header names are lower-cased, as the harness merges them over the sample's.
 */
export default {
  package: 'github:gitlabhq/gitlabhq',
  sign: async ({ secret }: Omit<SdkArgs, 'headers'>) => ({
    'content-type': 'application/json',
    'idempotency-key': crypto.randomUUID(),
    'x-gitlab-event': 'Push Hook',
    'x-gitlab-event-uuid': crypto.randomUUID(),
    'x-gitlab-instance': 'https://gitlab.com',
    'x-gitlab-token': secret.replace(/\r?\n/g, ''),
  }),
} satisfies CatalogSdk;
