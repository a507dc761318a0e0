import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest, type CompiledManifest } from '../../runtime/manifest/compile.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest, Step } from '../../runtime/manifest/types.gen.ts';
import { PACKAGE_ROOT } from '../../cli/lib/project.ts';
import { createRegistry, type Registry } from '../../runtime/component/registry.ts';
import type { Component } from '../../runtime/component/define.ts';
import { createRuntime } from '../../runtime/runtime.ts';

/** A comparable picture of a compiled manifest: maps and sets as entries, functions and regexes by kind. */
function shape(value: unknown, seen = new Map<object, string>(), path = '$'): unknown {
  if (typeof value === 'function') return '[function]';
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof RegExp) return String(value);
  if (seen.has(value)) return `[ref ${seen.get(value)}]`;
  seen.set(value, path);
  // A map's order is the order its parts were first compiled in, which lazy compiling changes (a first Stripe event
  // compiles the handler its type matches first): compare entries by their key (an effect's id), not their order.
  if (value instanceof Map) {
    const keyOf = ([k, v]: [unknown, unknown]) =>
      typeof k === 'string' ? k : String((v as { id?: unknown })?.id ?? '');
    const entries = [...value].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    return entries.map(([k, v], i) => [shape(k, seen, `${path}.k${i}`), shape(v, seen, `${path}.v${i}`)]);
  }
  if (value instanceof Set) return [...value].map((v, i) => shape(v, seen, `${path}[${i}]`));
  if (Array.isArray(value)) return value.map((v, i) => shape(v, seen, `${path}[${i}]`));
  return Object.fromEntries(
    Object.keys(value).map((k) => [k, shape((value as Record<string, unknown>)[k], seen, `${path}.${k}`)]),
  );
}

/** Reads every deferred part, as first use would. */
function force(compiled: CompiledManifest): CompiledManifest {
  void compiled.effects;
  for (const source of compiled.sources.values()) void source.handlers;
  for (const route of compiled.routes) void [route.onFirstSeen, route.endpoint];
  return compiled;
}

const built = (file: string) =>
  Object.values(
    (
      JSON.parse(readFileSync(join(PACKAGE_ROOT, '.switchyard', file), 'utf8')) as {
        environments: Record<string, { manifest: Manifest }>;
      }
    ).environments,
  ).map((e) => e.manifest);

/** The default registry, with every component's create() recorded as `kind:name` (what a compile built). */
function spyRegistry(): { registry: Registry; created: string[] } {
  const created: string[] = [];
  const spied = defaultRegistry.all.map(
    (c) =>
      ({
        ...c,
        create: (options: never, context: never) => (
          created.push(`${c.kind}:${c.name}`), (c.create as (o: never, x: never) => unknown)(options, context)
        ),
      }) as Component,
  );
  return { registry: createRegistry(spied), created };
}

describe('compileManifest lazy (the Worker)', () => {
  const manifests = [...built('manifests.json'), ...built('examples.json')].map((m, i) => [i, m] as const);
  it.each(manifests)(
    'compiles manifest %i to the same table as eager, once its deferred parts are used',
    (_, manifest) => {
      const eager = compileManifest(structuredClone(manifest), defaultRegistry);
      const lazy = compileManifest(structuredClone(manifest), defaultRegistry, { lazy: true });
      expect(shape(force(lazy))).toEqual(shape(eager));
    },
  );

  it.each(manifests)(
    'compiles manifest %i to the same table when the app reads its routes first (path and methods), then uses them',
    (_, manifest) => {
      const eager = compileManifest(structuredClone(manifest), defaultRegistry);
      const lazy = compileManifest(structuredClone(manifest), defaultRegistry, { lazy: true });
      expect(lazy.routes.map((r) => [r.name, r.path, r.methods])).toEqual(
        eager.routes.map((r) => [r.name, r.path, r.methods]),
      );
      expect(shape(force(lazy))).toEqual(shape(eager));
    },
  );

  it("a first Stripe event compiles Stripe's verifier and the one handler its type matches: no route, auth provider, command, alert, other handler or the Resend action's templates", () => {
    const manifest = built('manifests.json')[0]!;
    const { registry, created } = spyRegistry();
    const compiled = compileManifest(structuredClone(manifest), registry, { lazy: true });
    // As the Worker's first request: the runtime (Hono app, consumer), then the route's integration and its event type.
    createRuntime({ compiled, environment: 'default', hash: 'lazy', emit: () => undefined });
    const stripe = compiled.webhookPaths.get('/webhooks/stripe')!;
    expect(stripe.appliesInRequest('customer.subscription.updated')).toBe(true);
    expect(stripe.stepsFor('customer.subscription.updated')).toHaveLength(1);
    expect(created).toEqual(['verifier:stripe', 'step:sql']);
    // An event with an email compiles its handler (the Resend action, its template), and finds its effect, no more.
    const [send] = stripe.stepsFor('invoice.payment_failed');
    expect(compiled.effects.byStep.get(send!)?.id).toBe('integrations.stripe.handlers[2].steps[0]');
    expect(created).toEqual(['verifier:stripe', 'step:sql', 'step:action', 'action:resend']);
    // An effect asked for by id (a retry, the sweep) whose handler was not used yet compiles the rest, as eager would.
    expect(compiled.effects.byId.get('integrations.clerk.handlers[1].steps[0]')?.action.type).toBe('resend');
    expect(created).toEqual(expect.arrayContaining(['step:enqueue', 'verifier:svix', 'auth:clerk']));
    expect(shape(force(compiled))).toEqual(shape(compileManifest(structuredClone(manifest), defaultRegistry)));
  });

  it('defers handlers, and a problem in them is thrown on first use with the path validate reports', () => {
    const manifest: Manifest = {
      version: 1,
      queues: { events: { binding: 'EVENTS_QUEUE' } },
      integrations: {
        shop: {
          route: '/webhooks/shop',
          verifier: { type: 'token', secret: 'SHOP_TOKEN' },
          event: { id: 'id', type: 'type' },
          queue: 'events',
          handlers: [{ on: 'order.paid', steps: [{ bogus: {} } as unknown as Step] }],
        },
      },
    };
    let eagerError: unknown;
    try {
      compileManifest(manifest, defaultRegistry);
    } catch (error) {
      eagerError = error;
    }
    expect(eagerError).toBeInstanceOf(ManifestError);
    const lazy = compileManifest(manifest, defaultRegistry, { lazy: true });
    expect(lazy.webhookPaths.get('/webhooks/shop')?.name).toBe('shop');
    expect(() => lazy.integrations.get('shop')!.stepsFor('order.paid')).toThrow(ManifestError);
    let lazyError: unknown;
    try {
      compileManifest(manifest, defaultRegistry, { lazy: true }).integrations.get('shop')!.stepsFor('order.paid');
    } catch (error) {
      lazyError = error;
    }
    expect((lazyError as ManifestError).problems).toEqual((eagerError as ManifestError).problems);
  });

  it('compiles an integration on its first lookup: a broken one fails only when used, with the problems validate reports', () => {
    const shop = {
      route: '/webhooks/shop',
      verifier: { type: 'token', secret: 'SHOP_TOKEN' },
      event: { id: 'id', type: 'type' },
      queue: 'events',
    };
    const manifest = {
      version: 1,
      queues: { events: { binding: 'EVENTS_QUEUE' } },
      integrations: { shop, broken: { ...shop, route: '/webhooks/broken', verifier: { type: 'nope' } } },
    } as unknown as Manifest;
    const eager = (() => {
      try {
        compileManifest(manifest, defaultRegistry);
      } catch (error) {
        return error as ManifestError;
      }
    })();
    expect(eager).toBeInstanceOf(ManifestError);
    const lazy = compileManifest(manifest, defaultRegistry, { lazy: true });
    expect([...lazy.integrations.keys()]).toEqual(['shop', 'broken']);
    expect(lazy.webhookPaths.get('/webhooks/shop')?.name).toBe('shop');
    expect(() => lazy.webhookPaths.get('/webhooks/broken')).toThrow(ManifestError);
    try {
      lazy.integrations.get('broken');
    } catch (error) {
      expect((error as ManifestError).problems).toEqual(eager!.problems);
    }
  });

  it('an eager compile (validate, build) still reports every problem, those in the parts the Worker defers included; lazy, each is thrown when its part is first used', () => {
    const notify = {
      action: 'resend',
      from: 'a@example.com',
      to: 'b@example.com',
      subject: 'x',
      text: 'y',
      api_key: 'RESEND_API_KEY',
    };
    const manifest = {
      version: 1,
      templates: { broken: { subject: '{{ unclosed', text: 'x' } },
      queues: { events: { binding: 'EVENTS_QUEUE' } },
      limits: { sends: { period: 'day', limit: 10, notify: { sql: 'SELECT 1' } } },
      auth: { users: { type: 'nope' } },
      integrations: {
        shop: {
          route: '/webhooks/shop',
          verifier: { type: 'token', secret: 'SHOP_TOKEN' },
          event: { id: 'id', type: 'type' },
          queue: 'events',
          handlers: [{ on: 'order.paid', steps: [{ bogus: {} }] }],
        },
      },
      routes: { api: { path: '/api/*', upstream: 'https://origin.example.com', auth: 'missing' } },
      commands: {
        ping: {
          input: { type: 'object' },
          auth: { service_token: 'TOKEN' },
          queue: 'nowhere',
          steps: [{ sql: 'SELECT 1' }],
        },
      },
      alerts: { loud: { when: { lag: { above: '15m' } }, notify: { ...notify, action: 'nope' } } },
      admin: { auth: 'missing' },
    } as unknown as Manifest;
    let eager: ManifestError | undefined;
    try {
      compileManifest(structuredClone(manifest), defaultRegistry);
    } catch (error) {
      eager = error as ManifestError;
    }
    expect(eager).toBeInstanceOf(ManifestError);
    const at = (e: ManifestError) => e.problems.map((p) => p.path.slice(0, 2).join('.'));
    expect(at(eager!)).toEqual(
      expect.arrayContaining([
        'templates.broken',
        'limits.sends',
        'auth.users',
        'integrations.shop',
        'routes.api',
        'commands.ping',
        'alerts.loud',
        'admin.auth',
      ]),
    );
    const lazy = compileManifest(structuredClone(manifest), defaultRegistry, { lazy: true });
    const thrown = (use: () => unknown) => {
      try {
        use();
      } catch (error) {
        return at(error as ManifestError);
      }
      return [];
    };
    expect(thrown(() => lazy.templates.get('broken'))).toContain('templates.broken');
    expect(thrown(() => lazy.limits.get('sends')?.notify)).toContain('limits.sends');
    expect(thrown(() => lazy.auth.get('users'))).toContain('auth.users');
    expect(thrown(() => lazy.integrations.get('shop')!.stepsFor('order.paid'))).toContain('integrations.shop');
    expect(thrown(() => lazy.routes[0]!.auth)).toContain('routes.api');
    expect(thrown(() => lazy.commands.get('ping'))).toContain('commands.ping');
    expect(thrown(() => lazy.alerts)).toContain('alerts.loud');
    expect(thrown(() => lazy.admin)).toContain('admin.auth');
  });
});
