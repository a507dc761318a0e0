/** Generated manifests for benchmarks: many integrations, each with realistic handlers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';

/** The default environment's manifest as `switchyard build` shipped it to the Worker (run the build first). */
export function defaultManifest(): Manifest {
  const built = JSON.parse(readFileSync(join(PACKAGE_ROOT, '.switchyard/manifests.json'), 'utf8')) as {
    environments: Record<string, { manifest: Manifest }>;
  };
  return built.environments.default!.manifest;
}

/** A manifest with `count` integrations cycling through the verifier kinds, each with two SQL handlers. */
export function generatedManifest(count: number): Record<string, unknown> {
  const verifiers = [
    { type: 'stripe', secret: 'STRIPE_WEBHOOK_SECRET' },
    { type: 'svix', secret: 'CLERK_WEBHOOK_SECRET' },
    { type: 'paddle', secret: 'PADDLE_WEBHOOK_SECRET' },
    { type: 'hmac', secret: 'GITHUB_WEBHOOK_SECRET', header: 'X-Signature', prefix: 'sha256=' },
  ];
  const integrations: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    integrations[`provider_${i}`] = {
      route: `/webhooks/provider-${i}`,
      verifier: verifiers[i % verifiers.length],
      event: { id: 'id', type: 'type', occurred_at: { path: 'created', transform: 'unix_seconds_to_iso' } },
      queue: 'events',
      retry: { max_attempts: 5 },
      handlers: [
        {
          on: ['customer.subscription.created', 'customer.subscription.updated'],
          steps: [
            {
              sql: 'INSERT INTO subscriptions (id, customer_id, status, current_period_end, plan_id) VALUES (:id, :customer_id, :status, :end, :plan) ON CONFLICT (id) DO UPDATE SET status = excluded.status',
              params: {
                id: 'data.object.id',
                customer_id: 'data.object.customer',
                status: 'data.object.status',
                end: { path: 'data.object.current_period_end', transform: 'unix_seconds_to_iso', default: null },
                plan: { path: 'data.object.items.data[0].price.id', default: null },
              },
            },
          ],
        },
        {
          on: 'payment_intent.*',
          steps: [
            {
              sql: 'UPDATE orders SET status = :s WHERE id = :id',
              params: { s: { const: 'paid' }, id: 'data.object.metadata.order_id' },
            },
          ],
        },
      ],
    };
  }
  return { version: 1, queues: { events: { binding: 'EVENTS_QUEUE', dead_letter: 'EVENTS_DLQ' } }, integrations };
}

export const generatedManifestYaml = (count: number) => stringify(generatedManifest(count));
