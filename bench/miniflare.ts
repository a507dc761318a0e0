/** A bench Worker bundled with esbuild and run in Miniflare (workerd) with local D1 migrated like production. */
import { build, type Plugin } from 'esbuild';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { schemaMigrations } from '../cli/lib/migrations.ts';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';

/** What a bench Worker needs beyond D1 and queues: Node's built-ins (pg) and Hyperdrive bindings to a local Postgres. */
export interface BenchWorkerOptions {
  /** Default true, as wrangler.toml deploys the Worker (pg is bundled, loaded on first use of a Postgres store). */
  nodejsCompat?: boolean;
  hyperdrives?: Record<string, string>;
}

const NODE_BUILTINS = /^(node:)?(events|util|util\/types|stream|net|tls|dns|fs|path|string_decoder|crypto|buffer|os)$/;

/**
 * Node built-ins under nodejs_compat, as wrangler bundles them: an ESM import stays `node:x`; a CommonJS require()
 * (pg is CommonJS) becomes a small module that imports `node:x` and exports it, since workerd has no require().
 */
const nodeBuiltins: Plugin = {
  name: 'node-builtins',
  setup(b) {
    b.onResolve({ filter: NODE_BUILTINS }, (args) => {
      const name = args.path.replace(/^node:/, '');
      return args.kind === 'require-call'
        ? { path: name, namespace: 'node-require' }
        : { path: `node:${name}`, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-require' }, (args) => ({
      contents: `import lib from 'node:${args.path}'; module.exports = lib;`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, external: true }));
  },
};

export async function startBenchWorker(
  entry: string,
  bindings: Record<string, string> = {},
  { nodejsCompat = true, ...options }: BenchWorkerOptions = {},
): Promise<Miniflare> {
  const bundle = await build({
    ...(nodejsCompat ? { plugins: [nodeBuiltins] } : {}),
    entryPoints: [join(PACKAGE_ROOT, entry)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    write: false,
    minify: true,
  });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          name: 'bench',
          modules: true,
          script: bundle.outputFiles[0]!.text,
          compatibilityDate: '2026-11-01',
          ...(nodejsCompat ? { compatibilityFlags: ['nodejs_compat'] } : {}),
          ...(options.hyperdrives ? { hyperdrives: options.hyperdrives } : {}),
          d1Databases: ['DB'],
          queueProducers: {
            EVENTS_QUEUE: 'bench-events',
            EVENTS_DLQ: 'bench-dlq',
            FULFILLMENT_QUEUE: 'bench-fulfillment',
          },
          bindings,
        },
      ],
    }),
  );
  const db = await mf.getD1Database('DB');
  // The runtime's tables, then the cookbook's (what `switchyard migrate` applies).
  for (const { sql: text } of schemaMigrations(join(PACKAGE_ROOT, 'migrations'))) {
    const sql = text.replace(/--[^\n]*/g, '');
    for (const statement of statements(sql)) await db.prepare(statement).run();
  }
  return mf;
}

/** The statements of a migration, split on `;` except inside a trigger's BEGIN … END. */
function statements(sql: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const part of sql.split(';')) {
    pending += (pending ? ';' : '') + part;
    const text = pending.trim();
    if (/^CREATE\s+TRIGGER\b/i.test(text) && !/\bEND$/i.test(text)) continue;
    if (text) out.push(text);
    pending = '';
  }
  return out;
}
