/**
 * `npm run build:package`: the JavaScript the npm package runs, in dist/ (what `npm pack` ships beside the sources
 * wrangler bundles). The CLI is bundled per entry with its dependencies left as imports (`dependencies` in
 * package.json); dist/cli/ sits two levels under the package root, where cli/lib/project.ts finds PACKAGE_ROOT.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const out = join(ROOT, 'dist/cli');
rmSync(join(ROOT, 'dist'), { recursive: true, force: true });

await build({
  absWorkingDir: ROOT,
  entryPoints: { switchyard: 'cli/bin.ts', create: 'cli/create.ts', 'postgres-prepare': 'cli/lib/postgres-prepare.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Chunks beside the entries: two levels under the package root, like cli/lib/project.ts in the sources.
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});
console.log(`wrote ${out}`);
