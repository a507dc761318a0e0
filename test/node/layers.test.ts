/**
 * The runtime's stage order (.dependency-cruiser.cjs, run by `npm run check`): every module belongs to one layer,
 * and an import from a layer to one above it fails the check. The rules are cruised over a scratch tree holding one
 * module per layer, so the test proves what `npm run check` would say without planting a back-edge in the sources.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';

interface Layer {
  name: string;
  path: string;
  what: string;
}
const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as {
  forbidden: IForbiddenRuleType[];
  LAYERS: Layer[];
};
const layers = config.LAYERS;

/** One module that stands in each layer, bottom first. */
const SAMPLES: Record<string, string> = {
  vocabulary: 'runtime/store/status.ts',
  lib: 'runtime/lib/probe.ts',
  language: 'runtime/language/probe.ts',
  component: 'runtime/component/probe.ts',
  store: 'runtime/store/probe.ts',
  manifest: 'runtime/manifest/probe.ts',
  event: 'runtime/event/probe.ts',
  consumer: 'runtime/consumer/probe.ts',
  edge: 'runtime/edge/probe.ts',
  operations: 'runtime/operations/probe.ts',
  composition: 'runtime/probe.ts',
};

const scratch = mkdtempSync(join(tmpdir(), 'switchyard-layers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes a tree where each listed module imports the next one, cruises it with the project's rules, and lists the broken rules. */
async function violations(tree: string, chain: string[]): Promise<string[]> {
  const root = join(scratch, tree);
  chain.forEach((file, i) => {
    const next = chain[i + 1];
    const spec = next ? relative(dirname(file), next) : undefined;
    mkdirSync(join(root, dirname(file)), { recursive: true });
    writeFileSync(
      join(root, file),
      next
        ? `import { probe as next } from '${spec!.startsWith('.') ? spec : `./${spec}`}';\nexport const probe = next;\n`
        : 'export const probe = 1;\n',
    );
  });
  const result = await cruise([...new Set(chain.map((f) => f.split('/')[0]!))], {
    baseDir: root,
    ruleSet: { forbidden: config.forbidden },
    validate: true,
  });
  return (result.output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

const runtimeFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? runtimeFiles(join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );

describe('the stage order', () => {
  it('places every runtime module in exactly one layer', () => {
    const unplaced = runtimeFiles('runtime')
      .map((f) => f.split('\\').join('/'))
      .filter((f) => layers.filter((l) => new RegExp(l.path).test(f)).length !== 1);
    expect(unplaced).toEqual([]);
    expect(layers.map((l) => l.name)).toEqual(Object.keys(SAMPLES));
    for (const l of layers)
      expect(new RegExp(l.path).test(SAMPLES[l.name]!), `${SAMPLES[l.name]} is in ${l.name}`).toBe(true);
  });

  it('fails an import from any layer to the one above it, naming the layer', async () => {
    const upwards = layers.map((l) => SAMPLES[l.name]!);
    const found = await violations('upwards', upwards);
    const expected = upwards.slice(0, -1).map((from, i) => `layer-${layers[i]!.name}: ${from} -> ${upwards[i + 1]}`);
    expect(found).toEqual(expect.arrayContaining(expected));
    expect(found.filter((v) => v.startsWith('layer-'))).toHaveLength(expected.length);
    // The vocabulary imports nothing at all, not even the layer right above it.
    expect(found).toContain(`vocabulary-imports-nothing: ${upwards[0]} -> ${upwards[1]}`);
  });

  it('allows every import downwards', async () => {
    const downwards = layers.map((l) => SAMPLES[l.name]!).reverse();
    expect(await violations('downwards', downwards)).toEqual([]);
  });

  it('keeps components off the stages: an adapter may use the contract, not the edge', async () => {
    expect(await violations('adapter-up', ['adapters/auth/probe.ts', 'runtime/edge/probe.ts'])).toEqual([
      'components-know-no-stage: adapters/auth/probe.ts -> runtime/edge/probe.ts',
    ]);
    expect(await violations('adapter-down', ['adapters/auth/probe.ts', 'runtime/component/probe.ts'])).toEqual([]);
  });
});
