/**
 * The Worker entry. It bundles the manifests `switchyard build` validated (plain JSON: no YAML parser and no
 * Ajv in the Worker), picks the one for SWITCHYARD_ENV, and compiles it once per isolate.
 */
import built from '../.switchyard/manifests.json';
import { defaultRegistry } from '../adapters/registry.ts';
import { createApp } from './app.ts';
import type { RuntimeEnv } from './envelope.ts';
import { errorResponse } from './http.ts';
import { compileManifest } from './manifest/compile.ts';
import { ManifestError } from './manifest/problems.ts';
import type { Manifest } from './manifest/types.gen.ts';
import { logEmit } from './telemetry.ts';

interface Built {
  environments: Record<string, { hash: string; manifest: Manifest }>;
}

type App = ReturnType<typeof createApp>;
const apps = new Map<string, App | Response>();

/** The app for an environment, compiled on first use and kept for the isolate's life. */
function appFor(env: RuntimeEnv): App | Response {
  const name = env.SWITCHYARD_ENV ?? 'default';
  let app = apps.get(name);
  if (app) return app;
  const entry = (built as unknown as Built).environments[name];
  if (!entry) {
    logEmit({ kind: 'manifest.compile_failed', environment: name, problems: [`no manifest was built for environment ${name}`] });
    app = errorResponse(500, { error: 'misconfigured', message: `no manifest for environment ${name}; run switchyard build` });
  } else {
    try {
      app = createApp({ compiled: compileManifest(entry.manifest, defaultRegistry), environment: name, hash: entry.hash });
    } catch (error) {
      const problems = error instanceof ManifestError ? error.problems.map((p) => p.message) : [String(error)];
      logEmit({ kind: 'manifest.compile_failed', environment: name, problems });
      app = errorResponse(500, { error: 'misconfigured', message: 'the manifest failed to compile; see the logs' });
    }
  }
  apps.set(name, app);
  return app;
}

export default {
  fetch(request, env, ctx) {
    const app = appFor(env);
    return app instanceof Response ? app.clone() : app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<RuntimeEnv>;
