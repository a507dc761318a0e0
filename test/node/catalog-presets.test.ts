/** `provider: <name>` through the manifest pipeline: the preset applies, every key overrides, mistakes are named. */
import type { Handshake, Integration, Manifest } from '../../runtime/manifest/types.gen.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogNames, loadCatalog } from '../../cli/lib/catalog.ts';
import { applyPreset } from '../../runtime/manifest/catalog.ts';
import { cli, projectWith, ROOT } from '../support/project.ts';

const entries = loadCatalog().entries;
const github = entries.get('github')!;

const manifest = (integrations: string) => `version: 1
queues:
  events: { binding: EVENTS_QUEUE, dead_letter: EVENTS_DLQ }
integrations:
${integrations}`;

describe('provider presets', () => {
  it('gives the catalog verifier, envelope and format, and drops `provider`', () => {
    const applied = applyPreset({ provider: 'twilio', route: '/t', queue: 'events' }, entries.get('twilio')!);
    expect(applied).toEqual({
      route: '/t',
      queue: 'events',
      format: 'form',
      verifier: { type: 'twilio', secret: 'TWILIO_AUTH_TOKEN' },
      event: entries.get('twilio')!.event,
    });
  });

  it('merges verifier keys over the preset, replaces it for another type, and replaces event fields whole', () => {
    const renamed = applyPreset(
      {
        provider: 'github',
        route: '/g',
        queue: 'events',
        verifier: { secret: 'MY_GH' },
        event: { type: { const: 'push' } },
      },
      github,
    );
    expect(renamed.verifier).toEqual({ ...github.verifier, secret: 'MY_GH' });
    expect(renamed.event).toEqual({ id: github.event.id, type: { const: 'push' } });
    const replaced = applyPreset(
      { provider: 'github', route: '/g', queue: 'events', verifier: { type: 'token', secret: 'T' } },
      github,
    );
    expect(replaced.verifier).toEqual({ type: 'token', secret: 'T' });
  });

  it("gives the preset's response (Discord Interactions), replaced whole by the integration's own, removed by `response: null`", () => {
    const discord = entries.get('discord-interactions')!;
    expect(applyPreset({ provider: 'discord-interactions', route: '/d', queue: 'events' }, discord).response).toEqual(
      discord.response,
    );
    const mine = { body: { const: { type: 4, data: { content: 'Got it' } } } };
    expect(
      applyPreset({ provider: 'discord-interactions', route: '/d', queue: 'events', response: mine }, discord).response,
    ).toEqual(mine);
    expect(
      'response' in
        applyPreset({ provider: 'discord-interactions', route: '/d', queue: 'events', response: null }, discord),
    ).toBe(false);
    expect('response' in applyPreset({ provider: 'github', route: '/g', queue: 'events' }, github)).toBe(false);
  });

  it('validates a manifest written with provider: and overrides, for every environment', () => {
    const text = manifest(`  gh:
    provider: github
    route: /webhooks/github
    queue: events
  pay:
    provider: stripe
    route: /webhooks/stripe
    queue: events
    verifier: { tolerance: 10m }
`);
    const result = cli(['validate', projectWith(text)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('names an unknown provider at its line and column, with a did-you-mean', () => {
    const text = manifest(`  pay:
    provider: strpe
    route: /webhooks/stripe
    queue: events
`);
    const result = cli(['validate', projectWith(text)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /integrations\.yaml:6:15: .*integrations\.pay\.provider: .*"strpe".*\(did you mean "stripe"\?\)/,
    );
  });

  it('reports a bad override against the merged verifier', () => {
    const text = manifest(`  gh:
    provider: github
    route: /webhooks/github
    queue: events
    verifier: { encoding: base32 }
`);
    const result = cli(['validate', projectWith(text)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /integrations\.gh\.verifier\.encoding: unknown value "base32" \(did you mean "base64"\?\); must be one of: "hex", "base64", "base64url"/,
    );
  });

  it('lists every catalog file in the manifest schema, so editors complete `provider:`', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas/manifest.schema.json'), 'utf8')) as {
      definitions: { Provider: { enum: string[] } };
    };
    expect(schema.definitions.Provider.enum).toEqual(catalogNames());
  });
});

describe('switchyard providers', () => {
  it('lists every catalog provider with its scheme, handshake and proof', () => {
    const { code, stdout } = cli(['providers']);
    expect(code).toBe(0);
    for (const name of catalogNames()) expect(stdout).toMatch(new RegExp(`^${name} `, 'm'));
    expect(stdout).toMatch(/^slack +hmac \(sha256 hex, X-Slack-Signature, timestamped\) +json-challenge +doc vector$/m);
    expect(stdout).toMatch(/^stripe +stripe +- +SDK \(stripe\)$/m);
  });

  it('shows what one sets, its secrets and where to find them; an unknown name gets a did-you-mean', () => {
    const { code, stdout } = cli(['providers', 'slack']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'SLACK_SIGNING_SECRET: api.slack.com/apps -> your app -> Basic Information -> App Credentials -> Signing Secret',
    );
    expect(stdout).toContain('docs: https://api.slack.com/authentication/verifying-requests-from-slack');
    expect(stdout).toMatch(/handshake:\n +type: json-challenge/);
    const unknown = cli(['providers', 'slak']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(did you mean "slack"?)');
  });

  it('is the table in docs/providers.md, generated from the catalog', async () => {
    const { withProvidersTable } = await import('../../cli/lib/providers-table.ts');
    const readme = readFileSync(join(ROOT, 'docs/providers.md'), 'utf8');
    expect(withProvidersTable(readme, entries.values())).toBe(readme);
    for (const name of catalogNames()) expect(readme).toContain(`| \`${name}\` |`);
  });
});

describe('handshake options', () => {
  it('are checked when the manifest loads: unknown types with a did-you-mean, contradictory options named', async () => {
    const { compileManifest } = await import('../../runtime/manifest/compile.ts');
    const { defaultRegistry } = await import('../../worker/registry.ts');
    const { ManifestError } = await import('../../runtime/manifest/problems.ts');
    const with_ = (handshake: Record<string, unknown>): Manifest => ({
      version: 1,
      queues: { events: { binding: 'EVENTS_QUEUE' } },
      integrations: {
        s: {
          ...applyPreset({ provider: 'slack', route: '/s', queue: 'events' }, entries.get('slack')!),
          handshake: handshake as unknown as Handshake,
        } as Integration,
      },
    });
    const problems = (handshake: Record<string, unknown>) => {
      try {
        compileManifest(with_(handshake), defaultRegistry);
        return [];
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        return error.problems.map((p) => p.message);
      }
    };
    expect(
      problems({
        type: 'json-challenge',
        when: { field: 'type', equals: 'url_verification' },
        answer_field: 'challenge',
      }),
    ).toEqual([]);
    expect(problems({ type: 'json-challeng', when: { field: 'type', equals: 'x' } })).toEqual([
      expect.stringContaining('unknown handshake type "json-challeng" (did you mean "json-challenge"?)'),
    ]);
    expect(
      problems({
        type: 'json-challenge',
        when: { field: 'type', equals: 'x' },
        answer_field: 'c',
        respond: { type: 1 },
      }),
    ).toEqual([expect.stringContaining('exactly one of `answer_field` and `respond`')]);
    expect(
      problems({ type: 'get-challenge', challenge_param: 'hub.challenge', token_param: 'hub.verify_token' }),
    ).toEqual([expect.stringContaining('`token_param` and `verify_token` together')]);
  });
});
