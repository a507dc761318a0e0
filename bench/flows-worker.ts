/**
 * The flows benchmark's Worker: the default manifest as `switchyard build` shipped it, compiled as the Worker entry
 * compiles it, and every flow of bench/flows.ts delivered end to end in this workerd, metered. `GET /flows?runs=3`
 * answers the measurements as JSON (bench/capacity.ts prints them).
 */
import built from '../.switchyard/manifests.json';
import { validators } from '../.switchyard/manifests.validators.ts';
import { inputValidator, type BuiltValidators } from '../runtime/manifest/commands/input.ts';
import type { RuntimeEnv } from '../runtime/lib/envelope.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import { defaultRegistry } from '../worker/registry.ts';
import { FLOWS } from './flows.ts';
import { flowRunner } from './flow-runner.ts';
import { serializingEmit } from './meter.ts';

const manifest = (built as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
const own = (validators as BuiltValidators).default ?? {};
const compiled = compileManifest(manifest, defaultRegistry, {
  inputValidator: (command) => (own[command] ? inputValidator(own[command]) : undefined),
});

export default {
  async fetch(request, env) {
    const runs = Number(new URL(request.url).searchParams.get('runs') ?? 3);
    // Telemetry on, as deployed: serialized to a sink that drops the line.
    const runner = flowRunner({ compiled, env: env as RuntimeEnv & Record<string, unknown>, emit: serializingEmit() });
    const measured = [];
    for (const flow of FLOWS) measured.push({ ...(await runner.measure(flow, runs)), target: flow.target ?? null });
    return Response.json(measured);
  },
} satisfies ExportedHandler<RuntimeEnv>;
