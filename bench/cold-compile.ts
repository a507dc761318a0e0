/**
 * One cold sample, run in a fresh Node process per sample (bench/foundation.ts spawns it): the first
 * compileManifest of the default manifest in a new isolate, after module loading, as a Worker's first request
 * pays it, then the first createRuntime over it (the Hono app and consumer). Prints one JSON line, in ms.
 */
import { defaultRegistry } from '../adapters/registry.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { defaultManifest } from './fixtures.ts';

const manifest = defaultManifest();
let start = performance.now();
const compiled = compileManifest(manifest, defaultRegistry);
const compile = performance.now() - start;
start = performance.now();
createRuntime({ compiled, environment: 'default', hash: 'cold', emit: () => undefined });
const runtime = performance.now() - start;
console.log(JSON.stringify({ compile, runtime }));
