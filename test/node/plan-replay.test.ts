/** `switchyard plan --replay`: the same events through the base and the changed manifest, and the data that differs. */
import { cpSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, defaultManifestText, projectWith, replaceOnce, ROOT } from '../support/project.ts';

describe('switchyard plan --replay', () => {
  it('shows the rows a changed projection would change, and the effects a changed template would change', () => {
    const base = defaultManifestText();
    let changed = replaceOnce(base, "UPDATE email_logs SET status = replace(:type, 'email.', '') WHERE id = :id", 'UPDATE email_logs SET status = :type WHERE id = :id');
    changed = replaceOnce(changed, 'subject: Your payment did not go through', 'subject: Action needed on your invoice');
    const dir = dirname(projectWith(changed));
    for (const d of ['tests', 'samples']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'base.yaml'), base);

    const run = cli(['plan', '--replay', '--from', 'base.yaml'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('table email_logs');
    expect(run.stdout).toContain(`~ em_1 (tests/billing-and-messaging.test.yaml › resend, delivery and bounce events set the email's status): status "delivered" -> "email.delivered"`);
    expect(run.stdout).toMatch(/- effect \(tests\/stripe\.test\.yaml › a failed invoice emails the customer a link to pay\): resend \(sent\) .*subject "Your payment did not go through"/);
    expect(run.stdout).toMatch(/\+ effect \(tests\/stripe\.test\.yaml › a failed invoice emails the customer a link to pay\): resend \(sent\) .*subject "Action needed on your invoice"/);
    expect(run.stdout).toMatch(/^summary: \d+ rows? changed, 0 added, 0 removed in \d+ tables?; \d+ effects differ \(\d+ events replayed\)$/m);

    const markdown = cli(['plan', '--replay', '--from', 'base.yaml', '--markdown'], dir).stdout;
    expect(markdown).toContain('**table `email_logs`**');
    expect(markdown).toContain('- `~` em_1');

    const json = JSON.parse(cli(['plan', '--replay', '--from', 'base.yaml', '--json'], dir).stdout) as { rows: { table: string; key: string; columns: unknown }[] };
    expect(json.rows).toContainEqual(expect.objectContaining({ table: 'email_logs', key: 'em_2', columns: [{ column: 'status', before: 'bounced', after: 'email.bounced' }] }));

    // No change, no difference.
    writeFileSync(join(dir, 'base.yaml'), changed);
    expect(cli(['plan', '--replay', '--from', 'base.yaml'], dir).stdout).toMatch(/summary: no difference in the data or effects/);
  });
});
