/**
 * `validate` tells the operator when a verifier leaves part of the request unauthenticated (a signature that does
 * not cover the body), and when an override quietly weakens what a provider preset checks.
 */
import { describe, expect, it } from 'vitest';
import { validate } from '../support/in-process.ts';
import { defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';

const withIntegration = (yaml: string) =>
  projectWith(replaceOnce(defaultManifestText(), 'integrations:\n', `integrations:\n${yaml}`));
const warningsOf = async (file: string) =>
  (await validate([file])).stdout.split('\n').filter((l) => l.includes(': warning'));

describe('validate: what a verifier does not authenticate', () => {
  it('warns that a body-carried signature (Mailgun) covers only its own fields, so the payload can be swapped under a captured one', async () => {
    const warnings = await warningsOf(
      withIntegration('  mailgun:\n    provider: mailgun\n    route: /webhooks/mailgun\n    queue: events\n'),
    );
    expect(warnings.some((w) => /integrations\.mailgun\.verifier: .*does not cover the body/.test(w))).toBe(true);
  });

  it('warns that a credential scheme (basic, token) authenticates the sender, not the body', async () => {
    const warnings = await warningsOf(
      withIntegration('  postmark:\n    provider: postmark\n    route: /webhooks/postmark\n    queue: events\n'),
    );
    expect(
      warnings.some((w) => /integrations\.postmark\.verifier: the basic verifier checks a credential/.test(w)),
    ).toBe(true);
  });
});

describe('validate: overrides that weaken a provider preset', () => {
  const slack = (extra: string) =>
    withIntegration(`  slack:\n    provider: slack\n    route: /webhooks/slack\n    queue: events\n${extra}`);

  it('warns on a wider tolerance, a removed timestamp, a weaker hash, a template that signs less, and a replaced scheme', async () => {
    expect((await warningsOf(slack('    verifier: { tolerance: 30d }\n'))).join('\n')).toMatch(
      /integrations\.slack\.verifier\.tolerance: .*widens the provider's 5m/,
    );
    expect((await warningsOf(slack('    verifier: { algorithm: sha1 }\n'))).join('\n')).toMatch(
      /integrations\.slack\.verifier\.algorithm: .*weaker/,
    );
    expect(
      (await warningsOf(slack('    verifier: { signed: "v0:{body}", timestamp_header: null }\n'))).join('\n'),
    ).toMatch(/integrations\.slack\.verifier\.(signed|timestamp_header): /);
    expect(
      (await warningsOf(slack('    verifier: { type: token, secret: SLACK_SIGNING_SECRET, header: X-Token }\n'))).join(
        '\n',
      ),
    ).toMatch(/integrations\.slack\.verifier\.type: .*replaces the provider's hmac/);
    expect((await warningsOf(slack('    handshake: { verify: false }\n'))).join('\n')).toMatch(
      /integrations\.slack\.handshake\.verify: /,
    );
  });

  it('is quiet for overrides that change only names or sign more (secret rotation, extra signed headers)', async () => {
    const quiet = slack('    verifier: { secret: [SLACK_SIGNING_SECRET, SLACK_SIGNING_SECRET_NEXT], tolerance: 2m }\n');
    expect((await warningsOf(quiet)).filter((w) => w.includes('integrations.slack'))).toEqual([]);
  });
});
