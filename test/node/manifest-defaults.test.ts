/**
 * One source for every default: each default the manifest's section specs declare (runtime/manifest/sections/) is
 * what compile produces for an omitted value, and compile.ts spells no default of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/project.ts';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Field, Spec } from '../../runtime/component/spec.ts';
import { parseDuration, parseSize } from '../../runtime/lib/duration.ts';
import { retryPolicyOf } from '../../runtime/manifest/retry.ts';
import { compileManifest, type CompiledManifest } from '../../runtime/manifest/compile.ts';
import { applyDefaults } from '../../runtime/manifest/defaults.ts';
import { manifestSpec, sectionDefinitions } from '../../runtime/manifest/sections/manifest.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';

type AnyField = Field<unknown, 'required' | 'optional' | 'defaulted'>;

/** Every field with a default, by where it is written (`Limit.warn_at`, `retention.batch`), with its default. */
function declaredDefaults(): Map<string, unknown> {
  const found = new Map<string, unknown>();
  const walk = (at: string, spec: Spec) => {
    for (const [key, f] of Object.entries(spec) as [string, AnyField][]) {
      if (f.defaultValue !== undefined) found.set(`${at}.${key}`, f.defaultValue);
      if (f.inner && 'spec' in f.inner) walk(`${at}.${key}`, f.inner.spec);
    }
  };
  walk('manifest', manifestSpec);
  for (const [name, f] of Object.entries(sectionDefinitions))
    if (f.inner && 'spec' in f.inner) walk(name, f.inner.spec);
  return found;
}

/** A manifest that omits every defaulted value: one of each section that has defaults. */
const bare = (): Manifest =>
  ({
    version: 1,
    queues: { events: { binding: 'EVENTS' }, analytics: { binding: 'ANALYTICS' } },
    integrations: {
      hooks: {
        route: '/webhooks/hooks',
        queue: 'events',
        verifier: { type: 'hmac', secret: 'HOOKS_SECRET', header: 'X-Signature' },
        // The id from a header the verifier does not sign: the replay window applies.
        event: { id: { header: 'X-Delivery-Id' }, type: 'type' },
        response: { body: { const: 'ok' } },
      },
    },
    limits: { 'resend.emails': { period: 'day', limit: 100 } },
    auth: { clerk: { type: 'clerk', issuer: 'https://clerk.example.com' } },
    routes: {
      api: { path: '/api/*', auth: 'clerk', upstream: 'https://origin.example.com', analytics: { to: 'track' } },
      track: {
        path: '/v1/track',
        endpoint: { type: 'track', publishable_keys: ['pk_test'] },
        queue: 'analytics',
        handlers: [],
      },
    },
    commands: {
      pay: {
        input: { type: 'object' },
        auth: { service_token: 'SERVICE_TOKEN' },
        queue: 'events',
        sync: { result: { id: 'id' } },
        steps: [
          { action: 'http', method: 'POST', url: 'https://api.example.com/pay', idempotency_header: 'Idempotency-Key' },
        ],
      },
    },
  }) as unknown as Manifest;

const envelope = { integration: 'hooks', id: '1', type: 't', payload: {} } as unknown as Envelope;

/** What compile made of each defaulted field of `bare()`, as the manifest would write it. */
const compiledAs: Record<string, (c: CompiledManifest) => unknown> = {
  'manifest.defaults': () => ({}),
  'manifest.platform': () => ({}),
  'manifest.retention': () => ({}),
  'manifest.platform.plan': (c) => c.plan,
  'manifest.retention.payloads': (c) => c.retention.payloadsMs,
  'manifest.retention.events': (c) => c.retention.eventsMs,
  'manifest.retention.dead_letters': (c) => c.retention.deadLettersMs,
  'manifest.retention.refusals': (c) => c.retention.refusalsMs,
  'manifest.retention.batch': (c) => c.retention.batch,
  'Defaults.retry': (c) => c.integrations.get('hooks')!.retry,
  'Defaults.max_body': (c) => c.integrations.get('hooks')!.maxBody,
  'Defaults.stuck_after': (c) => c.stuckAfterMs,
  'Defaults.replay_window': (c) => c.integrations.get('hooks')!.replayWindowMs,
  'Integration.methods': (c) => [...c.integrations.get('hooks')!.methods],
  'Integration.format': (c) => c.integrations.get('hooks')!.format,
  'Integration.apply': (c) => c.integrations.get('hooks')!.apply,
  'WebhookResponse.status': (c) => c.integrations.get('hooks')!.response!(envelope).status,
  'WebhookResponse.content_type': (c) => c.integrations.get('hooks')!.response!(envelope).contentType,
  'Limit.warn_at': (c) => c.limits.get('resend.emails')!.warnAt,
  'Limit.on_exceed': (c) => c.limits.get('resend.emails')!.onExceed,
  'Limit.counts': (c) => c.limits.get('resend.emails')!.counts,
  'Route.keep_authorization': (c) => c.routes.find((r) => r.name === 'api')!.upstream!.keepAuthorization,
  'RouteAnalytics.event': (c) => c.routes.find((r) => r.name === 'api')!.analytics!.event,
  'RouteAnalytics.query': (c) => c.routes.find((r) => r.name === 'api')!.analytics!.query,
  'RouteAnalytics.privacy': () => ({}),
  'RouteAnalytics.privacy.ip': (c) => c.routes.find((r) => r.name === 'api')!.analytics!.ip,
  'RouteAnalytics.privacy.country': (c) => c.routes.find((r) => r.name === 'api')!.analytics!.country,
  'Command.rpc': (c) => c.commands.get('pay')!.rpc,
  'Command.apply': (c) => c.sources.get('command:pay')?.apply ?? 'auto',
  'Command.sync.cache': (c) => c.commands.get('pay')!.sync!.cacheSeconds,
};

/** A declared default as compile holds it: durations in ms, sizes in bytes, a retry policy parsed. */
function asCompiled(where: string, value: unknown): unknown {
  if (where === 'Defaults.retry') return retryPolicyOf(value as Parameters<typeof retryPolicyOf>[0]);
  if (where === 'Defaults.max_body') return parseSize(value as string);
  if (where === 'Command.sync.cache') return parseDuration(value as string) / 1000;
  if (typeof value === 'string' && /^[0-9]+(ms|s|m|h|d)$/.test(value)) return parseDuration(value);
  return value;
}

describe('the section specs are the one source of the manifest defaults', () => {
  const compiled = compileManifest(bare(), defaultRegistry);

  it('compiles every default the specs declare, for a manifest that omits them all', () => {
    const declared = declaredDefaults();
    // A default added to a spec needs its line here: the test cannot pass over one it does not know.
    expect([...declared.keys()].sort()).toEqual(Object.keys(compiledAs).sort());
    for (const [where, value] of declared) {
      expect({ where, value: compiledAs[where]!(compiled) }).toEqual({ where, value: asCompiled(where, value) });
    }
  });

  it('reads each one from the manifest: a value given instead of a default is the one compiled', () => {
    const given = bare() as unknown as { limits: Record<string, unknown>; [section: string]: unknown };
    given.defaults = { max_body: '64KiB', stuck_after: '1h', retry: { max_attempts: 2 } };
    given.retention = { refusals: '1d', batch: 50 };
    given.platform = { plan: 'paid' };
    given.limits['resend.emails'] = { period: 'day', limit: 100, warn_at: 0.5, on_exceed: 'drop' };
    const c = compileManifest(given as unknown as Manifest, defaultRegistry);
    expect(c.integrations.get('hooks')!.maxBody).toBe(64 * 1024);
    expect(c.stuckAfterMs).toBe(3_600_000);
    // A partial `defaults.retry` keeps the spec's other fields.
    expect(c.integrations.get('hooks')!.retry).toEqual({
      ...compiled.integrations.get('hooks')!.retry,
      maxAttempts: 2,
    });
    expect([c.retention.refusalsMs, c.retention.batch, c.retention.payloadsMs]).toEqual([
      86_400_000,
      50,
      compiled.retention.payloadsMs,
    ]);
    expect(c.plan).toBe('paid');
    expect([c.limits.get('resend.emails')!.warnAt, c.limits.get('resend.emails')!.onExceed]).toEqual([0.5, 'drop']);
  });

  it('applies them without changing the manifest it was given, and applying them twice changes nothing', () => {
    const manifest = bare();
    const before = JSON.stringify(manifest);
    const once = applyDefaults(manifest);
    expect(JSON.stringify(manifest)).toBe(before);
    expect(applyDefaults(once)).toEqual(once);
    // A built manifest (defaults applied at build time) compiles the same with `defaulted`, which skips the walk.
    const built = compileManifest(once, defaultRegistry, { defaulted: true });
    expect(built.retention).toEqual(compiled.retention);
    expect(built.limits.get('resend.emails')).toEqual(compiled.limits.get('resend.emails'));
  });
});

describe("the sections' descriptions", () => {
  it('never restate a default by hand: the schema\'s "Default: …" and the docs\' column come from .default()', () => {
    const restated: string[] = [];
    const walk = (at: string, spec: Spec) => {
      for (const [key, f] of Object.entries(spec) as [string, AnyField][]) {
        if (f.text && /\(default\b|\bdefault:|\(defaults? to\b/i.test(f.text)) restated.push(`${at}.${key}: ${f.text}`);
        if (f.inner && 'spec' in f.inner) walk(`${at}.${key}`, f.inner.spec);
      }
    };
    walk('manifest', manifestSpec);
    for (const [name, f] of Object.entries(sectionDefinitions))
      if (f.inner && 'spec' in f.inner) walk(name, f.inner.spec);
    expect(restated).toEqual([]);
    // And the generated text is there: a defaulted field's schema says its default.
    expect(sectionDefinitions.Limit!.schema).toMatchObject({
      properties: { warn_at: { default: 0.8, description: expect.stringMatching(/ Default: 0\.8\.$/) } },
    });
  });
});

describe('compile.ts', () => {
  it('spells no default: no `??` or `||` with a literal on its right (an empty list or map is no default)', () => {
    const source = readFileSync(join(ROOT, 'runtime/manifest/compile.ts'), 'utf8');
    const found = source
      .split('\n')
      .flatMap((line, i) =>
        [...line.matchAll(/(\?\?|\|\|)\s*(?!\[\]|\{\})(['"`]|-?\d|true\b|false\b|\[|\{)/g)].map(
          () => `compile.ts:${i + 1}: ${line.trim()}`,
        ),
      );
    expect(found).toEqual([]);
  });
});
