/** `switchyard plan`: what a manifest change does, read against another file or a git ref (spawns the CLI). */
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli, defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';
import { matrixRows, readmeShop } from '../support/matrix.ts';

describe('switchyard plan', () => {
  it("--budget prices the README's shop (its id and topic from unsigned headers) on the path the Worker takes", () => {
    // The README's integration, as "Five minutes: add a provider" has the reader add it to integrations.yaml.
    const shop = stringify({ shop: readmeShop().integrations.shop }).replace(/^/gm, '  ');
    const manifest = projectWith(replaceOnce(defaultManifestText(), '\n  resend:\n', `\n${shop}\n  resend:\n`));
    appendFileSync(join(dirname(manifest), '.dev.vars.example'), '\nSHOP_WEBHOOK_SECRET=dev_shop_secret\n');
    const run = cli(['plan', '--budget', '--json', manifest]);
    expect(run.stderr).toBe('');
    const row = (
      JSON.parse(run.stdout) as {
        default: {
          handlers: { source: string; on: string; path: string; d1_rows_written: number; queue_operations: number }[];
        };
      }
    ).default.handlers.find((h) => h.source === 'shop' && h.on === 'orders/paid');
    // Applied in the request (200, as the README's curl shows) with the same-body check: the event row, its dedup
    // key, the body's hash and the UPDATE of its order; no queue message.
    expect(row).toMatchObject({ path: 'direct', queue_operations: 0, d1_rows_written: 4 });
    // The figures the conformance matrix holds equal to a metered delivery in workerd (its `README.md shop` row).
    const metered = matrixRows()
      .find((r) => r.label === 'README.md shop')!
      .plan.find((h) => h.on === 'orders/paid')!;
    expect({ path: row!.path, d1_rows_written: row!.d1_rows_written, queue_operations: row!.queue_operations }).toEqual(
      { path: metered.path, d1_rows_written: metered.d1_rows_written, queue_operations: metered.queue_operations },
    );
  });

  it('shows a readable diff: routes, verifiers, projections (their SQL, and the rebuild to run), limits and newly required secrets', () => {
    const before = projectWith(defaultManifestText());
    let text = defaultManifestText();
    text = replaceOnce(
      text,
      'provider: stripe\n',
      'provider: stripe\n    verifier: { secret: [STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET_NEXT] }\n',
    );
    text = replaceOnce(
      text,
      'UPDATE sms_logs SET status = :status WHERE sid = :sid',
      'UPDATE sms_logs SET status = lower(:status) WHERE sid = :sid',
    );
    text = replaceOnce(text, '    limit: 3000\n', '    limit: 50000\n');
    text = replaceOnce(
      text,
      '\n  resend:\n',
      '\n  shopify:\n    provider: shopify\n    route: /webhooks/shopify\n    queue: events\n\n  resend:\n',
    );
    const after = projectWith(text);
    const { code, stdout } = cli(['plan', '--from', before, after]);
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(1).filter(Boolean)).toEqual([
      '  + route POST /webhooks/shopify (integration shopify, verifier hmac)',
      '  ~ verifier stripe (stripe): secret "STRIPE_WEBHOOK_SECRET" -> ["STRIPE_WEBHOOK_SECRET","STRIPE_WEBHOOK_SECRET_NEXT"]',
      '  ~ projection twilio on message.*: steps changed',
      '  ~   step 1 sql:',
      '  -     UPDATE sms_logs SET status = :status WHERE sid = :sid',
      '  +     UPDATE sms_logs SET status = lower(:status) WHERE sid = :sid',
      '  !   events already applied keep the old projection: run `switchyard rebuild sms_logs` after deploying to re-project them',
      '  ~ limit resend.emails: 3000 per month, on_exceed defer -> 50000 per month, on_exceed defer',
      '  ! new secret SHOPIFY_WEBHOOK_SECRET: set it before deploying (npx wrangler secret put SHOPIFY_WEBHOOK_SECRET --env <env>)',
      '  ! new secret STRIPE_WEBHOOK_SECRET_NEXT: set it before deploying (npx wrangler secret put STRIPE_WEBHOOK_SECRET_NEXT --env <env>)',
    ]);
    expect(cli(['plan', '--from', before, before]).stdout).toContain('no changes');
  });

  it('reads the old manifest at a git ref', () => {
    const { code, stdout, stderr } = cli(['plan', '--from', 'HEAD', '--markdown']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^### Plan for integrations.yaml \[default\], from HEAD/);
  });
});
