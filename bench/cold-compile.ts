/**
 * One cold sample, run in a fresh Node process per sample (bench/foundation.ts spawns it): the first
 * compileManifest of the default manifest in a new isolate, after module loading, as a Worker's first request
 * pays it (lazy, as worker/index.ts compiles, plus the integration of the route it is for), then the first createRuntime over it (the Hono app and consumer),
 * then what the deferred part costs when first used (a queue batch, the cron). With `eager`, an eager compile.
 * Prints one JSON line, in ms of wall time, plus the compile's process CPU time (which also counts V8's
 * background compiler and GC threads, so it is not what the isolate's thread spends).
 */
// The registry the Worker compiles with: the adapters its manifests use (switchyard build writes it).
import { registry } from '../.switchyard/manifests.registry.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { defaultManifest } from './fixtures.ts';
// As the Worker entry composes it: with the dashboard's pages (they register /admin and its login).
import { dashboard } from '../.switchyard/dashboard.ts';

const manifest = defaultManifest();
const measure = <T>(fn: () => T): [T, number, number] => {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return [value, (used.user + used.system) / 1000, performance.now() - start];
};
// What a first webhook request compiles: the manifest (lazy, as the Worker does), then its route's integration.
const [compiled, compileCpu, compile] = measure(() => {
  const c = compileManifest(manifest, registry, { lazy: process.argv[2] !== 'eager', defaulted: true });
  if (!c.webhookPaths.get('/webhooks/stripe')) throw new Error('no Stripe route in the default manifest');
  return c;
});
const [, , runtime] = measure(() =>
  createRuntime({ compiled, environment: 'default', hash: 'cold', emit: () => undefined, dashboard }),
);
// A Stripe subscription event applied in the request compiles its own integration's handlers (and templates), no more.
const [, , handlers] = measure(() =>
  compiled.webhookPaths.get('/webhooks/stripe')!.appliesInRequest('customer.subscription.updated'),
);
// Every effect, as a queue batch or the sweep may ask for one by id: the rest of the manifest compiles first.
const [, , deferred] = measure(() => compiled.effects.byId.size);
console.log(JSON.stringify({ compile, compileCpu, runtime, handlers, deferred }));
