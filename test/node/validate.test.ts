import { readFileSync, writeFileSync } from 'node:fs';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../support/in-process.ts';
import { createCatalogValidator } from '../../cli/lib/catalog.ts';
import { locate, parseManifest } from '../../runtime/manifest/load.ts';
import { ROOT } from '../support/project.ts';
import { defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';

const lineOf = (text: string, snippet: string) => text.slice(0, text.indexOf(snippet)).split('\n').length;

describe('switchyard validate', () => {
  it('accepts the default manifest for every environment', async () => {
    const all = await validate([]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(
      /valid for default \([0-9a-f]{12}\), staging \([0-9a-f]{12}\), production \([0-9a-f]{12}\)/,
    );
    for (const env of ['staging', 'production']) expect((await validate(['--env', env])).code).toBe(0);
  });

  it('warns when the event id or type comes from a header the verifier does not sign (github), not when it is signed (svix-id)', async () => {
    const { code, stdout } = await validate([]);
    expect(code).toBe(0);
    const warnings = stdout.split('\n').filter((l) => l.includes(': warning'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /integrations\.github\.event\.id: the event id comes from header X-GitHub-Delivery, which the hmac verifier does not sign/,
    );
    expect(warnings[1]).toMatch(/integrations\.github\.event\.type: .*X-GitHub-Event.*replay_window \(30d\)/);
    const signedInTemplate = replaceOnce(
      defaultManifestText(),
      'provider: github\n',
      'provider: github\n    verifier: { signed: "{header.X-GitHub-Delivery}.{header.X-GitHub-Event}.{body}" }\n',
    );
    expect((await validate([projectWith(signedInTemplate)])).stdout).not.toContain(': warning');
  });

  it('prints the replay window of each integration whose verifier signs no timestamp, never shorter than body retention', async () => {
    const { code, stdout } = await validate(['--env', 'default']);
    expect(code).toBe(0);
    const windows = stdout
      .slice(stdout.indexOf('replay windows:'))
      .split('\n')
      .slice(1)
      .filter((l) => l.startsWith('  '));
    expect(windows).toEqual([
      expect.stringMatching(
        /^ {2}twilio \(twilio\): the same delivery is a duplicate for 90d after it first arrived \(retention\.events\), then accepted as new$/,
      ),
      expect.stringMatching(/^ {2}github \(hmac\): .* 90d .*; its body under another id, for 30d \(replay_window\)$/),
    ]);
    // Rows kept for less than bodies would let a capture in again while its body is still kept: rows live as long.
    const shorter = replaceOnce(defaultManifestText(), '  events: 90d\n', '  events: 7d\n');
    const json = JSON.parse((await validate(['--env', 'default', '--json', projectWith(shorter)])).stdout) as {
      environments: { replay_windows: { integration: string; duplicate: string }[] }[];
    };
    expect(json.environments[0]!.replay_windows).toContainEqual(
      expect.objectContaining({ integration: 'github', duplicate: '30d' }),
    );
  });

  it('lists all three planted errors with line:column, not only the first', async () => {
    let text = defaultManifestText();
    text = replaceOnce(
      text,
      'provider: stripe\n',
      'provider: stripe\n    verifier: { type: stripe-v2, secret: STRIPE_WEBHOOK_SECRET }\n',
    );
    text = replaceOnce(text, 'UPDATE sms_logs SET status = :status', 'UPDATE sms_logs SET delivery_state = :status');
    text = replaceOnce(text, 'binding: FULFILLMENT_QUEUE', 'binding: SHIPPING_QUEUE');
    const file = projectWith(text);
    const { code, stderr } = await validate([file]);
    expect(code).toBe(1);
    const lines = stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes(': error'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(
        `integrations.yaml:${lineOf(text, 'SHIPPING_QUEUE')}:\\d+: error .*queues.fulfillment.binding: queue binding SHIPPING_QUEUE has no \\[\\[queues.producers\\]\\] entry in wrangler.toml`,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `integrations.yaml:${lineOf(text, 'stripe-v2')}:\\d+: error .*integrations.stripe.verifier.type: unknown type "stripe-v2"`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`integrations.yaml:${lineOf(text, 'delivery_state')}:\\d+: error .*no such column: delivery_state`),
    );
    expect(stderr).toContain('3 problems found');
  });

  it('warns (without failing) when an ordering guard can pick the wrong winner: a missing @occurred_at, or ties by event id', async () => {
    // The guard the default manifest shipped before `@version`: Clerk's timestamp may be missing (it has a default).
    const text = defaultManifestText().replaceAll(
      'version: "@version"',
      'version: { template: "{@occurred_at}|{@id}" }',
    );
    const { code, stderr, stdout } = await validate([projectWith(text)]);
    expect(code).toBe(0);
    expect(stdout).toContain('valid for default');
    expect(stderr).toBe('');
    const clerk = stdout.split('\n').find((l) => l.includes('integrations.clerk.handlers[0].steps[0].params.version'));
    expect(clerk).toMatch(
      /integrations.yaml:\d+:\d+: warning .*depends on @occurred_at, which may be missing .*wins forever; use "@version"/,
    );
    expect(stdout).toMatch(
      /integrations.stripe.handlers\[1\].steps\[0\].params.version: this ordering guard breaks same-time ties by the event id/,
    );
    expect((await validate([])).stdout).not.toContain('ordering guard');
  });

  it('refuses the local dev issuer in any wrangler.toml environment: it must never reach a deployed one', async () => {
    const file = projectWith(defaultManifestText(), {
      wrangler: (t) => t.replace('ADMIN_ORG_ID = "org_production_replace_me"', '$&\nSWITCHYARD_DEV_AUTH = "1"'),
    });
    const { code, stderr } = await validate([file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /wrangler\.toml:\d+:\d+: error .*SWITCHYARD_DEV_AUTH .*must not be set in wrangler\.toml \(\[env\.production\.vars\]\)/,
    );
  });

  it("reports a typo'd key as unknown, with a suggestion", async () => {
    const text = replaceOnce(
      defaultManifestText(),
      '  retry:\n    backoff: exponential',
      '  retyr:\n    backoff: exponential',
    );
    const { code, stderr } = await validate([projectWith(text)]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(
        `integrations.yaml:${lineOf(text, 'retyr')}:3: error .*defaults.retyr: unknown key "retyr" \\(did you mean "retry"\\?\\)`,
      ),
    );
  });

  describe('names a misspelt tag of every tagged union, with a suggestion, at its file:line:col (never a crash)', () => {
    /** `line:col` of the one occurrence of `word` in `snippet` of `text`. */
    const at = (text: string, snippet: string, word: string) => {
      const offset = text.indexOf(snippet) + snippet.indexOf(word);
      const before = text.slice(0, offset).split('\n');
      return `${before.length}:${before[before.length - 1]!.length + 1}`;
    };
    const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const cases: { union: string; from: string; to: string; word: string; path: string; message: string }[] = [
      {
        union: 'verifier type',
        from: 'provider: stripe\n',
        to: 'provider: stripe\n    verifier: { type: stripe-v2, secret: STRIPE_WEBHOOK_SECRET }\n',
        word: 'stripe-v2',
        path: 'integrations.stripe.verifier.type',
        message: 'unknown type "stripe-v2" (did you mean "stripe"?)',
      },
      {
        union: 'action of a handler step',
        from: '          - action: resend\n            limits: [resend.emails]\n            from: "Acme Billing',
        to: '          - action: resnd\n            limits: [resend.emails]\n            from: "Acme Billing',
        word: 'resnd',
        path: 'integrations.stripe.handlers[2].steps[0].action',
        message: 'unknown action "resnd" (did you mean "resend"?)',
      },
      {
        union: 'action of a command step',
        from: '      - action: resend\n        limits: [resend.emails]\n        from: "Acme <security@example.com>"',
        to: '      - action: sendgird\n        limits: [resend.emails]\n        from: "Acme <security@example.com>"',
        word: 'sendgird',
        path: 'commands.send_password_reset.steps[0].action',
        message: 'unknown action "sendgird"',
      },
      {
        union: 'action of a limit notification',
        from: '  resend.emails:\n    period: month\n    limit: 3000\n    warn_at: 0.8\n    on_exceed: defer\n    notify:\n      action: resend',
        to: '  resend.emails:\n    period: month\n    limit: 3000\n    warn_at: 0.8\n    on_exceed: defer\n    notify:\n      action: resnd',
        word: 'resnd',
        path: 'limits.resend.emails.notify.action',
        message: 'unknown action "resnd" (did you mean "resend"?)',
      },
      {
        union: 'auth provider type',
        from: 'auth:\n  clerk:\n    type: clerk\n',
        to: 'auth:\n  clerk:\n    type: clerck\n',
        word: 'clerck',
        path: 'auth.clerk.type',
        message: 'unknown type "clerck" (did you mean "clerk"?)',
      },
      {
        union: 'endpoint type',
        from: 'endpoint: { type: track,',
        to: 'endpoint: { type: trakc,',
        word: 'trakc',
        path: 'routes.track.endpoint.type',
        message: 'unknown type "trakc" (did you mean "track"?)',
      },
      {
        union: 'handshake type',
        from: 'provider: github\n',
        to: 'provider: github\n    handshake: { type: json-chalenge }\n',
        word: 'json-chalenge',
        path: 'integrations.github.handshake.type',
        message: 'unknown type "json-chalenge" (did you mean "json-challenge"?)',
      },
      {
        union: 'store type',
        from: 'integrations:\n',
        to: 'stores:\n  warehouse: { type: postgress, binding: HYPERDRIVE, migrations: pg }\nintegrations:\n',
        word: 'postgress',
        path: 'stores.warehouse.type',
        message: 'unknown type "postgress" (did you mean "postgres"?)',
      },
      {
        union: 'step kind (the key that names a step)',
        from: '          - action: resend\n            limits: [resend.emails]\n            from: "Acme Billing',
        to: '          - actoin: resend\n            limits: [resend.emails]\n            from: "Acme Billing',
        word: 'actoin',
        path: 'integrations.stripe.handlers[2].steps[0]',
        message: 'expected one of the keys sql, enqueue, action (one per step); "actoin" (did you mean "action"?)',
      },
    ];
    for (const c of cases) {
      it(c.union, async () => {
        const text = replaceOnce(defaultManifestText(), c.from, c.to);
        const { code, stderr } = await validate([projectWith(text)]);
        expect(code).toBe(1);
        const errors = stderr.split('\n').filter((l) => l.includes(': error'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(
          new RegExp(
            `integrations\\.yaml:${at(text, c.to, c.word)}: error .*${escapeRe(c.path)}: ${escapeRe(c.message)}`,
          ),
        );
      });
    }
  });

  it('names a misspelt tag of a union Ajv has no discriminator for (a catalog source\u2019s pagination type), at file:line:col', () => {
    const text = replaceOnce(
      readFileSync(join(ROOT, 'catalog/clerk.yaml'), 'utf8'),
      'pagination: { type: offset,',
      'pagination: { type: ofset,',
    );
    const parsed = parseManifest(text, 'catalog/clerk.yaml');
    const problems = locate(parsed, createCatalogValidator()(parsed.value));
    const line = text.slice(0, text.indexOf('ofset')).split('\n');
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.path.join('.')}: ${p.message}`)).toEqual([
      `catalog/clerk.yaml:${line.length}:${line[line.length - 1]!.length + 1}: sources.users.pagination.type: unknown type "ofset" (did you mean "offset"?); known: cursor, offset, page, next_url`,
    ]);
  });

  it('checks :named params against the declared params, and secrets against .dev.vars.example (and the README with --readme-secrets)', async () => {
    let text = defaultManifestText();
    text = replaceOnce(
      text,
      'params: { sid: MessageSid, status: { first: [MessageStatus, SmsStatus] } }',
      'params: { sid: MessageSid, state: MessageStatus }',
    );
    text = replaceOnce(text, 'provider: github\n', 'provider: github\n    verifier: { secret: GH_SECRET }\n');
    const file = projectWith(text);
    const { code, stderr } = await validate(['--readme-secrets', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(':status used in sql but not in params; params state not used in sql');
    expect(stderr).toContain('secret GH_SECRET is not declared in .dev.vars.example');
    expect(stderr).toContain("secret GH_SECRET is not in the README's secrets table");
    expect((await validate([file])).stderr).not.toContain('README');
  });

  it('refuses an admin requirement of roles alone: it must be bound to a claim (an organisation)', async () => {
    const text = replaceOnce(defaultManifestText(), ', claims: { org_id: { env: ADMIN_ORG_ID } } }', ' }');
    const { code, stderr } = await validate([projectWith(text)]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`integrations.yaml:${lineOf(text, 'roles_claim: org_role }')}:\\d+: error .*admin.require: .*bind`),
    );
    const none = await validate([
      projectWith(replaceOnce(text, '  require: { roles: ["org:admin"], roles_claim: org_role }\n', '')),
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/integrations.yaml:\d+:\d+: error .*admin.auth: .*require/);
  });

  it('refuses a secret written as a value instead of an env var name', async () => {
    const text = replaceOnce(
      defaultManifestText(),
      'provider: stripe\n',
      'provider: stripe\n    verifier: { secret: whsec_live_abc123 }\n',
    );
    const { stderr } = await validate([projectWith(text)]);
    expect(stderr).toContain('must be the NAME of an environment variable');
    expect(stderr).not.toContain('whsec_live_abc123');
  });

  it('checks each environment against its own wrangler bindings', async () => {
    const file = projectWith(defaultManifestText(), {
      wrangler: (t) =>
        replaceOnce(
          t,
          'binding = "EVENTS_DLQ"\nqueue = "switchyard-staging-events-dlq"',
          'binding = "STAGING_DLQ"\nqueue = "switchyard-staging-events-dlq"',
        ),
    });
    const staging = await validate(['--env', 'staging', file]);
    expect(staging.code).toBe(1);
    // Reported where the binding goes: the environment's own producers in wrangler.toml.
    const producers = lineOf(
      readFileSync(join(dirname(file), 'wrangler.toml'), 'utf8'),
      '[[env.staging.queues.producers]]',
    );
    expect(staging.stderr).toContain(
      `wrangler.toml:${producers}:1: error [staging]: dead-letter binding EVENTS_DLQ has no [[queues.producers]] entry in wrangler.toml (needed by queues.events.dead_letter in the manifest)`,
    );
    expect(staging.stderr).not.toContain('integrations.yaml');
    expect((await validate(['--env', 'production', file])).code).toBe(0);
  });

  it('fails an environment whose dead-letter queue has no consumer', async () => {
    const file = projectWith(defaultManifestText(), {
      wrangler: (t) =>
        replaceOnce(
          t,
          '[[env.staging.queues.consumers]]\nqueue = "switchyard-staging-events-dlq"\nmax_retries = 10\n',
          '',
        ),
    });
    const { code, stderr } = await validate(['--env', 'staging', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /wrangler.toml:\d+:1: error \[staging\]: dead-letter queue switchyard-staging-events-dlq has no \[\[queues.consumers\]\] entry/,
    );
  });

  it('suggests the declared queue for a misspelt one', async () => {
    const { code, stderr } = await validate([
      projectWith(defaultManifestText().replace('queue: events', 'queue: evnets')),
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('queue "evnets" is not declared under queues: (did you mean "events"?)');
  });

  it("prepares the SQL of every step: routes' handlers and on_first_seen, and commands, each reported at its path", async () => {
    let text = defaultManifestText();
    text = replaceOnce(
      text,
      'INSERT INTO users (id, email, name, metadata, created_at)',
      'INSERT INTO users (id, email, name, metadta, created_at)',
    );
    text = replaceOnce(
      text,
      'INSERT INTO users (id, email, name, created_at)',
      'INSERT INTO users (id, email, name, creatd_at)',
    );
    text = replaceOnce(
      text,
      '          - action: posthog\n            event: event\n',
      '          - sql: UPDATE users SET nmae = :name WHERE id = :id\n            params: { name: event, id: distinct_id }\n          - action: posthog\n            event: event\n',
    );
    const { code, stderr } = await validate(['--env', 'default', projectWith(text)]);
    expect(code).toBe(1);
    const at = (snippet: string) =>
      `integrations.yaml:${lineOf(text, snippet)}:${text.split('\n')[lineOf(text, snippet) - 1]!.indexOf(snippet) + 1}: error [default]: `;
    expect(stderr).toContain(
      `${at('metadta')}routes.api.on_first_seen[0].sql: SQL does not prepare against migrations/: table users has no column named metadta (did you mean "metadata"?)`,
    );
    expect(stderr).toContain(
      `${at('creatd_at')}commands.sync_user.steps[0].sql: SQL does not prepare against migrations/: table users has no column named creatd_at (did you mean "created_at"?)`,
    );
    expect(stderr).toContain(
      `${at('nmae')}routes.track.handlers[0].steps[0].sql: SQL does not prepare against migrations/: no such column: nmae (did you mean "name"?)`,
    );
    expect(stderr).toContain('3 problems found');
  });

  it('reports an action whose log table the migrations do not create', async () => {
    const file = projectWith(defaultManifestText());
    const migration = join(dirname(file), 'migrations', '0001_contract_tables.sql');
    writeFileSync(
      migration,
      readFileSync(migration, 'utf8')
        .replace('CREATE TABLE IF NOT EXISTS email_logs (', 'CREATE TABLE IF NOT EXISTS mail_log (')
        .replaceAll('ON email_logs', 'ON mail_log'),
    );
    const { code, stderr } = await validate(['--env', 'default', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /steps\[\d+\]\.action: a resend send logs to table email_logs, which migrations\/ do not create/,
    );
    // A limit's or an alert's notification is sent on its own and logs nothing: it needs no email_logs.
    expect(stderr).not.toMatch(/(limits|alerts)\.[^ ]*\.notify[^\n]*email_logs/);
  });

  it('points at a misspelt SQL column with a caret, and suggests the column', async () => {
    const text = replaceOnce(
      defaultManifestText(),
      'paid_at = :paid_at, payment_intent_id',
      'paid_at = :paid_at, payment_intnt_id',
    );
    const { code, stderr } = await validate(['--env', 'default', projectWith(text)]);
    expect(code).toBe(1);
    const line = lineOf(text, 'payment_intnt_id');
    const column = text.split('\n')[line - 1]!.indexOf('payment_intnt_id') + 1;
    expect(stderr).toContain(
      `integrations.yaml:${line}:${column}: error [default]: integrations.stripe.handlers[0].steps[0].sql: SQL does not prepare against migrations/: no such column: payment_intnt_id (did you mean "payment_intent_id"?)`,
    );
    const [, source, caret] = stderr.split('\n');
    expect(source!.slice(2)).toBe(text.split('\n')[line - 1]);
    expect(caret).toBe(`${' '.repeat(column + 1)}^`);
  });

  it('points an error introduced by an environment overlay at the overlay', async () => {
    const text = replaceOnce(
      defaultManifestText(),
      'retry: { max_attempts: 8, max_delay: 6h }',
      'retry: { max_attempts: 8, max_delay: 6 hours }',
    );
    const { code, stderr } = await validate(['--env', 'production', projectWith(text)]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(
        `integrations.yaml:${lineOf(text, '6 hours')}:\\d+: error \\[production\\]: defaults.retry.max_delay: "6 hours" is not valid`,
      ),
    );
  });

  it('reports a template variable the action does not provide, and a missing template file', async () => {
    let text = defaultManifestText();
    text = replaceOnce(text, '              first_name: { path: data.first_name, default: there }\n', '');
    text = replaceOnce(text, 'html_file: templates/payment_failed.html', 'html_file: templates/payment-failed.html');
    const { code, stderr } = await validate([projectWith(text)]);
    expect(code).toBe(1);
    expect(stderr).toContain('template welcome uses {{first_name}} but data does not provide it');
    expect(stderr).toMatch(
      new RegExp(
        `integrations.yaml:${lineOf(text, 'payment-failed.html')}:\\d+: .*template file templates/payment-failed.html not found`,
      ),
    );
  });

  it('reports YAML syntax errors with their position', async () => {
    const { code, stderr } = await validate([projectWith('version: 1\nintegrations: {\n')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/integrations.yaml:\d+:\d+: error/);
  });
});

describe('adapter examples', () => {
  it("every verifier's, step's and action's example config validates against the manifest schema and compiles", async () => {
    const { defaultRegistry } = await import('../../worker/registry.ts');
    const { createManifestValidator } = await import('../../runtime/manifest/load.ts');
    const { compileManifest } = await import('../../runtime/manifest/compile.ts');
    const integrations = Object.fromEntries(
      [...defaultRegistry.verifiers.values()].map((v, i) => [
        `example_${i}`,
        {
          route: `/webhooks/example-${i}`,
          verifier: v.example,
          event: { id: 'id', type: 'type' },
          queue: 'events',
          handlers: [
            {
              on: '*',
              steps: [...defaultRegistry.steps.values(), ...defaultRegistry.actions.values()].map((s) => s.example),
            },
          ],
        },
      ]),
    );
    const templates = { welcome: { subject: 'Hi {{ name }}', text: 'Hello {{ name }}' } };
    // Every example passed the schema just below, so it is a Manifest.
    const manifest = {
      version: 1,
      templates,
      queues: { events: { binding: 'EVENTS_QUEUE' }, fulfillment: { binding: 'FULFILLMENT_QUEUE' } },
      integrations,
    };
    expect(createManifestValidator(defaultRegistry)(manifest)).toEqual([]);
    expect(() => compileManifest(manifest as unknown as Manifest, defaultRegistry)).not.toThrow();
  });
});
