/** The Worker bundle as wrangler deploys it: no run-time code generation, which workerd refuses, and no unused driver. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/project.ts';
import type { Registry } from '../../runtime/component/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { defaultRegistry } from '../../worker/registry.ts';

describe('the deployable bundle', () => {
  it.each(['default', 'staging', 'production'])(
    'builds for %s with no new Function or eval, and no Postgres driver',
    (env) => {
      const outdir = mkdtempSync(join(tmpdir(), 'switchyard-bundle-'));
      const args = [
        join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
        'deploy',
        '--dry-run',
        '--outdir',
        outdir,
        ...(env === 'default' ? [] : ['--env', env]),
      ];
      const result = spawnSync(process.execPath, args, {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
      });
      expect(result.status, result.stderr).toBe(0);
      const bundle = readdirSync(outdir)
        .filter((f) => f.endsWith('.js'))
        .map((f) => readFileSync(join(outdir, f), 'utf8'))
        .join('\n');
      expect(bundle.length).toBeGreaterThan(1000);
      expect(bundle).not.toMatch(/new Function\s*\(/);
      expect(bundle).not.toMatch(/(^|[^.\w])eval\s*\(/m);
      expect(bundle).not.toContain('ajv');
      // The default manifest has no postgres store: none of pg (its wire protocol, its SASL auth) is deployed.
      expect(bundle).not.toMatch(/pg-protocol|SCRAM-SHA-256/);
    },
  );
});

/** The Worker entry bundled (as wrangler would, for workerd) over the build `name` (`manifests` is the default one). */
async function workerInputs(name: string): Promise<string[]> {
  const redirect: Plugin = {
    name: 'build-output',
    setup(b) {
      b.onResolve({ filter: /\.switchyard\/manifests\./ }, (args) => ({
        path: resolve(args.resolveDir, args.path.replace('manifests.', `${name}.`)),
      }));
    },
  };
  const result = await build({
    entryPoints: [join(ROOT, 'worker/index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    conditions: ['workerd', 'worker'],
    external: ['cloudflare:*'],
    logLevel: 'silent',
    plugins: [redirect],
  });
  return Object.keys(result.metafile.inputs);
}

describe('the Postgres driver in the Worker', () => {
  it('is bundled from a build whose manifest has a postgres store, and only from one', async () => {
    const out = `bundle-test-${process.pid}`;
    const built = spawnSync(
      process.execPath,
      [CLI, 'build', '--quiet', '--out', `${out}.json`, join(ROOT, 'examples/postgres.yaml')],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(built.status, built.stderr).toBe(0);
    try {
      const pg = (inputs: string[]) =>
        inputs
          .filter((f) => /node_modules\/pg(-[a-z]+)?\//.test(f))
          .map((f) => f.replace(/.*node_modules\/([^/]+)\/.*/, '$1'));
      expect(pg(await workerInputs(out))).toEqual(
        expect.arrayContaining(['pg', 'pg-protocol', 'pg-pool', 'pg-types', 'pg-cloudflare']),
      );
      expect(pg(await workerInputs('manifests'))).toEqual([]);
    } finally {
      for (const suffix of ['.json', '.validators.ts', '.drivers.ts', '.registry.ts'])
        rmSync(join(ROOT, '.switchyard', `${out}${suffix}`), { force: true });
    }
  });
});

describe('the adapters in the Worker', () => {
  // The Worker serves only the manifests it was built with: an adapter none of them names is never run there.
  const adapters = (inputs: string[]) =>
    inputs
      .filter(
        (f) =>
          f.startsWith('adapters/') &&
          !/\/(crypto|template|form|message|analytics|http-fields|form-encode|profile)\.ts$/.test(f),
      )
      .sort();
  it('are those the built manifests use, and no others', async () => {
    const inputs = adapters(await workerInputs('manifests'));
    // The default manifest: six verifier schemes, the three steps, all six actions (its conditional flows send SMS
    // through Twilio, a SendGrid email, and Slack and deploy-hook requests through http), Clerk and three endpoints.
    expect(inputs).toEqual(
      expect.arrayContaining([
        'adapters/verifiers/stripe.ts',
        'adapters/verifiers/hmac.ts',
        'adapters/steps/sql.ts',
        'adapters/actions/resend.ts',
        'adapters/auth/clerk.ts',
        'adapters/endpoints/cloudinary-upload.ts',
      ]),
    );
    for (const unused of [
      'adapters/verifiers/ed25519.ts',
      'adapters/verifiers/jws.ts',
      'adapters/handshakes/json-challenge.ts',
      'adapters/auth/auth0.ts',
    ])
      expect(inputs).not.toContain(unused);
    expect(inputs).toHaveLength(19);
  });
  it('follow the build: another manifest bundles the adapters it names', async () => {
    const inputs = adapters(await workerInputs('examples'));
    expect(inputs).toEqual(
      expect.arrayContaining([
        'adapters/verifiers/ed25519.ts',
        'adapters/verifiers/paddle-classic.ts',
        'adapters/handshakes/json-challenge.ts',
        'adapters/handshakes/head-ok.ts',
      ]),
    );
    expect(inputs).not.toContain('adapters/verifiers/stripe.ts');
  });
});

describe("the Worker's registry", () => {
  it('compiles every environment of its build, eagerly: no adapter a manifest names is missing', async () => {
    for (const name of ['manifests', 'examples', 'postgres']) {
      const { registry } = (await import(join(ROOT, `.switchyard/${name}.registry.ts`))) as { registry: Registry };
      const built = JSON.parse(readFileSync(join(ROOT, `.switchyard/${name}.json`), 'utf8')) as {
        environments: Record<string, { manifest: Manifest }>;
      };
      for (const { manifest } of Object.values(built.environments))
        expect(() => compileManifest(manifest, registry), name).not.toThrow();
      expect(registry.all.length, name).toBeLessThan(defaultRegistry.all.length);
    }
  });
});
