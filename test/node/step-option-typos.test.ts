/** A misspelt option of a step that names its kind (`action: resend`) reads as itself, with the key it meant. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createManifestValidator } from '../../runtime/manifest/load.ts';
import { defaultRegistry } from '../../worker/registry.ts';

const manifest = (step: string) =>
  parse(`version: 1
queues: { events: { binding: EVENTS_QUEUE } }
integrations:
  stripe:
    route: /webhooks/stripe
    verifier: { type: stripe, secret: STRIPE_WEBHOOK_SECRET }
    queue: events
    handlers:
      - on: invoice.payment_failed
        steps:
          - ${step}
`);

describe('a misspelt step option', () => {
  const all = createManifestValidator(defaultRegistry);
  // Only what is said about the step (the fixture's integration is otherwise incomplete).
  const validate = (value: unknown) => all(value).filter((p) => p.path.includes('steps'));

  it('is an unknown key with its did-you-mean, and the required key it replaced is missing', () => {
    const problems = validate(
      manifest(
        '{ action: resend, from: "a <a@example.com>", too: data.email, subject: Hi, text: Hello, api_key: RESEND_API_KEY }',
      ),
    );
    expect(problems.map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([
      'integrations.stripe.handlers.0.steps.0: missing required key "to"',
      'integrations.stripe.handlers.0.steps.0.too: unknown key "too" (did you mean "to"?)',
    ]);
  });

  it('in the key that names the step is still said as such', () => {
    const problems = validate(
      manifest(
        '{ actoin: resend, from: "a <a@example.com>", to: data.email, subject: Hi, text: Hello, api_key: RESEND_API_KEY }',
      ),
    );
    expect(problems.map((p) => p.message)).toEqual([
      'expected one of the keys sql, enqueue, action (one per step); "actoin" (did you mean "action"?)',
    ]);
  });
});
