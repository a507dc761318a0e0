/**
 * The Worker, made from what `switchyard build` wrote: the validated manifests (plain JSON: no YAML parser and no
 * Ajv in the Worker), their command input checks, drivers and adapters, and the dashboard's pages. It picks the
 * manifest for SWITCHYARD_ENV and compiles it once per isolate: routing and verification on the first request,
 * handlers, templates and notifications when first used. This repository's entry is worker/index.ts; a project's is
 * the `.switchyard/worker.ts` its build writes, both a few lines around `createWorker`.
 */
import { WorkerEntrypoint, tracing } from 'cloudflare:workers';
import { inputValidator, type BuiltValidators } from '../runtime/manifest/commands/input.ts';
import type { CommandAnswer } from '../runtime/edge/commands/run.ts';
import type { Registry } from '../runtime/component/registry.ts';
import type { RuntimeEnv } from '../runtime/lib/envelope.ts';
import { errorResponse } from '../runtime/lib/http.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import { ManifestError } from '../runtime/manifest/problems.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import type { BudgetTable } from '../runtime/lib/platform.ts';
import type { PostgresConnect } from '../runtime/store/postgres.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../runtime/runtime.ts';
import { configureLogs, logEmit } from '../runtime/lib/telemetry.ts';
import type { Tracer } from '../runtime/lib/trace.ts';

interface Built {
  environments: Record<
    string,
    { hash: string; manifest: Manifest; queueNames: Record<string, string>; budget?: BudgetTable }
  >;
}

/** What `switchyard build` writes into a project's .switchyard/, as its generated modules export it. */
export interface WorkerParts {
  /** manifests.json */
  built: unknown;
  /** manifests.validators.ts `validators` */
  validators: unknown;
  /** manifests.drivers.ts `connectPostgres` (undefined without a postgres store) */
  connectPostgres?: PostgresConnect | undefined;
  /** manifests.registry.ts `registry` */
  registry: Registry;
  /** dashboard.ts `dashboard` */
  dashboard: RuntimeOptions['dashboard'];
}

/**
 * The Worker's handlers and its Service Binding entrypoint class, for the entry module to export.
 * @example const worker = createWorker({ built, validators, connectPostgres, registry, dashboard });
 * export class SwitchyardEntrypoint extends worker.SwitchyardEntrypoint {}
 * export default worker.handler;
 */
export function createWorker({ built, validators, connectPostgres, registry, dashboard }: WorkerParts) {
  const runtimes = new Map<string, Runtime | Error>();

  /** The runtime for an environment, compiled on first use and kept for the isolate's life. */
  function runtimeFor(env: RuntimeEnv): Runtime | Error {
    const name = env.SWITCHYARD_ENV ?? 'default';
    let runtime = runtimes.get(name);
    if (runtime) return runtime;
    configureLogs(env);
    const entry = (built as Built).environments[name];
    try {
      if (!entry)
        throw new ManifestError([
          { path: [], message: `no manifest was built for environment ${name}; run switchyard build` },
        ]);
      // Lazy: `switchyard build` compiled this manifest whole; a first request compiles only what it uses. Defaulted:
      // the build applied the manifest's defaults, so compiling applies none.
      const own = (validators as BuiltValidators)[name] ?? {};
      const inputs = { inputValidator: (command: string) => (own[command] ? inputValidator(own[command]) : undefined) };
      // Workers' custom spans (docs/observability.md): recorded when [observability.traces] is enabled, else no-ops.
      runtime = createRuntime({
        compiled: compileManifest(entry.manifest, registry, { lazy: true, defaulted: true, ...inputs }),
        environment: name,
        hash: entry.hash,
        queueNames: entry.queueNames,
        dashboard,
        ...(tracing ? { tracer: tracing as Tracer } : {}),
        ...(entry.budget ? { budget: entry.budget } : {}),
        ...(connectPostgres ? { connectPostgres } : {}),
      });
    } catch (error) {
      const problems = error instanceof ManifestError ? error.problems.map((p) => p.message) : [String(error)];
      logEmit({ kind: 'manifest.compile_failed', environment: name, problems });
      runtime = error instanceof Error ? error : new Error(String(error));
    }
    runtimes.set(name, runtime);
    return runtime;
  }

  /**
   * What another Worker calls through a Service Binding (`[[services]] binding = "SWITCHYARD", service = "switchyard",
   * entrypoint = "SwitchyardEntrypoint"`). The binding is the authorisation. Use the client `switchyard types --client`
   * generates, which types each command's input. Idempotency keys belong to the binding: add `props = { caller =
   * "<name>" }` to give a calling Worker keys of its own (a name of 1 to 64 letters, digits, `_`, `-` or `.`).
   * @example const answer = await env.SWITCHYARD.command('send_password_reset', { email, reset_url }, { idempotencyKey })
   */
  class SwitchyardEntrypoint extends WorkerEntrypoint<RuntimeEnv> {
    /** Runs a command; answers `{ status, body, replayed? }`, the status and body HTTP would answer. */
    async command(name: string, input: unknown, options?: { idempotencyKey?: string }): Promise<CommandAnswer> {
      const runtime = runtimeFor(this.env);
      if (runtime instanceof Error)
        return {
          status: 500,
          body: { error: 'misconfigured', message: 'the manifest failed to compile; see the logs' },
        };
      const named = (this.ctx.props as { caller?: unknown } | undefined)?.caller;
      return runtime.command(
        name,
        input,
        options,
        this.env,
        this.ctx,
        typeof named === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(named) ? named : undefined,
      );
    }

    /** The Worker's HTTP side through the binding (POST /v1/commands/<name> with a token, like any caller). */
    override async fetch(request: Request): Promise<Response> {
      const runtime = runtimeFor(this.env);
      if (runtime instanceof Error)
        return errorResponse(500, { error: 'misconfigured', message: 'the manifest failed to compile; see the logs' });
      return runtime.fetch(request, this.env, this.ctx);
    }
  }

  const handler = {
    fetch(request, env, ctx) {
      const runtime = runtimeFor(env);
      if (runtime instanceof Error)
        return errorResponse(500, { error: 'misconfigured', message: 'the manifest failed to compile; see the logs' });
      return runtime.fetch(request, env, ctx);
    },
    async queue(batch, env) {
      const runtime = runtimeFor(env);
      // Without a runtime nothing can be applied: leave every message for a retry rather than lose it.
      if (runtime instanceof Error) return batch.retryAll({ delaySeconds: 60 });
      await runtime.queue(batch, env);
    },
    async scheduled(_controller, env) {
      const runtime = runtimeFor(env);
      if (runtime instanceof Error) throw runtime;
      await runtime.scheduled(env);
    },
  } satisfies ExportedHandler<RuntimeEnv>;

  return { handler, SwitchyardEntrypoint };
}
