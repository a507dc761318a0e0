/**
 * A small project whose one handler has two conditions (the handler's `if:` and one step's), for the CLI tests of
 * `switchyard test` (skipped events, --coverage) and `plan --replay` (a changed condition).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectWith } from './project.ts';

/** Large checkouts (over 1,000.00) become orders; the payment intent is recorded when the event has one. */
export const CONDITIONS_MANIFEST = `version: 1
queues:
  events: { binding: EVENTS_QUEUE, dead_letter: EVENTS_DLQ }
integrations:
  stripe:
    provider: stripe
    route: /webhooks/stripe
    queue: events
    handlers:
      - on: checkout.session.completed
        if: { path: data.object.amount_total, gt: 100000 }
        steps:
          - sql: INSERT INTO orders (id, status) VALUES (:id, 'large')
            params: { id: data.object.id }
          - sql: UPDATE orders SET payment_intent_id = :pi WHERE id = :id
            if: { path: data.object.payment_intent, exists: true }
            params: { id: data.object.id, pi: data.object.payment_intent }
`;

/** A checkout event as a test case writes it (`json:`), with this id, total and optional payment intent. */
export const checkout = (id: string, amount: number, pi?: string) =>
  `{ id: ${id}, object: event, type: checkout.session.completed, created: 1767225600, data: { object: { id: cs_${id}, amount_total: ${amount}${pi ? `, payment_intent: ${pi}` : ''} } } }`;

/** A temporary project with `manifest` and these test files (name → text) in tests/; returns the manifest's path. */
export function conditionsProject(tests: Record<string, string>, manifest = CONDITIONS_MANIFEST): string {
  const path = projectWith(manifest);
  mkdirSync(join(dirname(path), 'tests'), { recursive: true });
  for (const [name, text] of Object.entries(tests)) writeFileSync(join(dirname(path), 'tests', name), text);
  return path;
}
