/** `switchyard plan --replay`: the same events through the base and the changed manifest, and the data that differs. */
import { cpSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, defaultManifestText, projectWith, replaceOnce, ROOT } from '../support/project.ts';
import { checkout, CONDITIONS_MANIFEST, conditionsProject } from '../support/conditions-project.ts';

describe('switchyard plan --replay', () => {
  it('shows the rows a changed projection would change, and the effects a changed template would change', () => {
    const base = defaultManifestText();
    let changed = replaceOnce(
      base,
      "UPDATE email_logs SET status = replace(:type, 'email.', '') WHERE id = :id",
      'UPDATE email_logs SET status = :type WHERE id = :id',
    );
    changed = replaceOnce(
      changed,
      'subject: Your payment did not go through',
      'subject: Action needed on your invoice',
    );
    const dir = dirname(projectWith(changed));
    for (const d of ['tests', 'samples']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'base.yaml'), base);

    const run = cli(['plan', '--replay', '--from', 'base.yaml'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('table email_logs');
    expect(run.stdout).toContain(
      `~ em_1 (tests/billing-and-messaging.test.yaml › resend, delivery and bounce events set the email's status): status "delivered" -> "email.delivered"`,
    );
    expect(run.stdout).toMatch(
      /- effect \(tests\/stripe\.test\.yaml › a failed invoice emails the customer a link to pay\): resend \(sent\) .*subject "Your payment did not go through"/,
    );
    expect(run.stdout).toMatch(
      /\+ effect \(tests\/stripe\.test\.yaml › a failed invoice emails the customer a link to pay\): resend \(sent\) .*subject "Action needed on your invoice"/,
    );
    expect(run.stdout).toMatch(
      /^summary: \d+ rows? changed, 0 added, 0 removed in \d+ tables?; \d+ effects differ \(\d+ events replayed\)$/m,
    );

    const markdown = cli(['plan', '--replay', '--from', 'base.yaml', '--markdown'], dir).stdout;
    expect(markdown).toContain('**table `email_logs`**');
    expect(markdown).toContain('- `~` em_1');

    const json = JSON.parse(cli(['plan', '--replay', '--from', 'base.yaml', '--json'], dir).stdout) as {
      rows: { table: string; key: string; columns: unknown }[];
    };
    expect(json.rows).toContainEqual(
      expect.objectContaining({
        table: 'email_logs',
        key: 'em_2',
        columns: [{ column: 'status', before: 'bounced', after: 'email.bounced' }],
      }),
    );

    // No change, no difference.
    writeFileSync(join(dir, 'base.yaml'), changed);
    expect(cli(['plan', '--replay', '--from', 'base.yaml'], dir).stdout).toMatch(
      /summary: no difference in the data or effects/,
    );
  });

  it('a changed condition shows the rows it adds or removes, and names the events it moves between skipped and applied', () => {
    const tests = `integration: stripe
cases:
  - name: checkouts of three sizes
    events:
      - json: ${checkout('evt_big', 200000, 'pi_1')}
      - json: ${checkout('evt_mid', 75000)}
      - json: ${checkout('evt_small', 500)}
`;
    // Only the threshold differs: 1,000.00 before, 500.00 after.
    const manifest = conditionsProject(
      { 'checkouts.test.yaml': tests },
      replaceOnce(CONDITIONS_MANIFEST, 'gt: 100000', 'gt: 50000'),
    );
    const dir = dirname(manifest);
    writeFileSync(join(dir, 'base.yaml'), CONDITIONS_MANIFEST);

    const run = cli(['plan', '--replay', '--from', 'base.yaml'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const source = 'tests/checkouts.test.yaml › checkouts of three sizes';
    expect(run.stdout).toContain(
      `table orders\n  + cs_evt_mid (${source}): {"id":"cs_evt_mid","status":"large","paid_at":null,"payment_intent_id":null}`,
    );
    expect(run.stdout).toContain(
      `events\n  ~ stripe evt_mid checkout.session.completed (${source}): skipped -> applied; no longer skipped by integrations.stripe.handlers[0].if: data.object.amount_total gt 100000; now skipped by integrations.stripe.handlers[0].steps[1].if: data.object.payment_intent exists true`,
    );
    // The events the change does not move are not listed.
    expect(run.stdout).not.toContain('evt_big checkout');
    expect(run.stdout).not.toContain('evt_small checkout');
    expect(run.stdout).toMatch(
      /^summary: 0 rows changed, 1 added, 0 removed in 1 table; 0 effects differ; 1 event changes outcome \(3 events replayed\)$/m,
    );

    // And back: the lower threshold as the base, the higher one now.
    writeFileSync(join(dir, 'base.yaml'), replaceOnce(CONDITIONS_MANIFEST, 'gt: 100000', 'gt: 50000'));
    writeFileSync(manifest, CONDITIONS_MANIFEST);
    const back = cli(['plan', '--replay', '--from', 'base.yaml'], dir);
    expect(back.stdout).toContain(`  - cs_evt_mid (${source})`);
    expect(back.stdout).toContain(
      `  ~ stripe evt_mid checkout.session.completed (${source}): applied -> skipped; now skipped by integrations.stripe.handlers[0].if: data.object.amount_total gt 100000`,
    );

    const json = JSON.parse(cli(['plan', '--replay', '--from', 'base.yaml', '--json'], dir).stdout) as {
      outcomes: unknown[];
    };
    expect(json.outcomes).toEqual([
      {
        source,
        integration: 'stripe',
        id: 'evt_mid',
        type: 'checkout.session.completed',
        before: 'applied',
        after: 'skipped',
        skipped: {
          before: ['integrations.stripe.handlers[0].steps[1].if: data.object.payment_intent exists true'],
          after: ['integrations.stripe.handlers[0].if: data.object.amount_total gt 100000'],
        },
      },
    ]);

    const markdown = cli(['plan', '--replay', '--from', 'base.yaml', '--markdown'], dir).stdout;
    expect(markdown).toContain('**events**');
    expect(markdown).toContain('- `~` stripe evt_mid checkout.session.completed');
  });
});
