import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest, type CompiledManifest } from '../../runtime/manifest/compile.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest, Step } from '../../runtime/manifest/types.gen.ts';
import { PACKAGE_ROOT } from '../../cli/lib/project.ts';

/** A comparable picture of a compiled manifest: maps and sets as entries, functions and regexes by kind. */
function shape(value: unknown, seen = new Map<object, string>(), path = '$'): unknown {
  if (typeof value === 'function') return '[function]';
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof RegExp) return String(value);
  if (seen.has(value)) return `[ref ${seen.get(value)}]`;
  seen.set(value, path);
  if (value instanceof Map) return [...value].map(([k, v], i) => [shape(k, seen, `${path}.k${i}`), shape(v, seen, `${path}.v${i}`)]);
  if (value instanceof Set) return [...value].map((v, i) => shape(v, seen, `${path}[${i}]`));
  if (Array.isArray(value)) return value.map((v, i) => shape(v, seen, `${path}[${i}]`));
  return Object.fromEntries(Object.keys(value).map((k) => [k, shape((value as Record<string, unknown>)[k], seen, `${path}.${k}`)]));
}

/** Reads every deferred part, as first use would. */
function force(compiled: CompiledManifest): CompiledManifest {
  void compiled.effects;
  for (const source of compiled.sources.values()) void source.handlers;
  for (const route of compiled.routes) void [route.onFirstSeen, route.endpoint];
  return compiled;
}

const built = (file: string) =>
  Object.values((JSON.parse(readFileSync(join(PACKAGE_ROOT, '.switchyard', file), 'utf8')) as { environments: Record<string, { manifest: Manifest }> }).environments).map((e) => e.manifest);

describe('compileManifest lazy (the Worker)', () => {
  it.each([...built('manifests.json'), ...built('examples.json')].map((m, i) => [i, m] as const))('compiles manifest %i to the same table as eager, once its deferred parts are used', (_, manifest) => {
    const eager = compileManifest(structuredClone(manifest), defaultRegistry);
    const lazy = compileManifest(structuredClone(manifest), defaultRegistry, { lazy: true });
    expect(shape(force(lazy))).toEqual(shape(eager));
  });

  it('defers handlers, and a problem in them is thrown on first use with the path validate reports', () => {
    const manifest: Manifest = {
      version: 1,
      queues: { events: { binding: 'EVENTS_QUEUE' } },
      integrations: {
        shop: { route: '/webhooks/shop', verifier: { type: 'token', secret: 'SHOP_TOKEN' }, event: { id: 'id', type: 'type' }, queue: 'events', handlers: [{ on: 'order.paid', steps: [{ bogus: {} } as unknown as Step] }] },
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
    const shop = { route: '/webhooks/shop', verifier: { type: 'token', secret: 'SHOP_TOKEN' }, event: { id: 'id', type: 'type' }, queue: 'events' };
    const manifest = { version: 1, queues: { events: { binding: 'EVENTS_QUEUE' } }, integrations: { shop, broken: { ...shop, route: '/webhooks/broken', verifier: { type: 'nope' } } } } as unknown as Manifest;
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
});
