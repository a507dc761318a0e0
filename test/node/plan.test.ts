/** `switchyard plan`: what a manifest change does, read against another file or a git ref (spawns the CLI). */
import { describe, expect, it } from 'vitest';
import { cli, defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';

describe('switchyard plan', () => {
  it('shows a readable diff: routes, verifiers, projections (their SQL, and the rebuild to run), limits and newly required secrets', () => {
    const before = projectWith(defaultManifestText());
    let text = defaultManifestText();
    text = replaceOnce(text, 'provider: stripe\n', 'provider: stripe\n    verifier: { secret: [STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET_NEXT] }\n');
    text = replaceOnce(text, 'UPDATE sms_logs SET status = :status WHERE sid = :sid', 'UPDATE sms_logs SET status = lower(:status) WHERE sid = :sid');
    text = replaceOnce(text, '    limit: 3000\n', '    limit: 50000\n');
    text = replaceOnce(text, '\n  resend:\n', '\n  shopify:\n    provider: shopify\n    route: /webhooks/shopify\n    queue: events\n\n  resend:\n');
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
