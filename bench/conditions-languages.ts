/**
 * Issue 26's measured comparison of condition languages (docs/conditions-language.md quotes what this prints).
 * Not part of `npm run bench`: the candidates are not dependencies. Install them first, without saving:
 *   npm install --no-save jsonata@2.2.2 @marcbachmann/cel-js@8.0.0 cel-js@0.8.2 @jmespath-community/jmespath@1.3.0 \
 *     jmespath@0.16.0 json-logic-js@2.0.5 expr-eval@2.0.2 filtrex@3.1.0 @bufbuild/cel@0.6.1
 * then `node bench/conditions-languages.ts` (the project's node, node_modules/.bin/node, as npm scripts run it).
 * Prints, per candidate: whether it runs in workerd (no code generation), ns per evaluation of each flow in workerd
 * and in Node's V8 next to the hand-written JS check and the matcher prototype, compile time, the added bundle size
 * (esbuild --minify, gzip -9), and what its parser says about typos.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';
import { CANDIDATES, type Candidate, type Lib } from './conditions/candidates.ts';
import type { Matcher } from './conditions/matcher.ts';
import { celPaths, checkPaths, jmespathPaths, jsonataPaths, matcherPaths, type ReadPath } from './conditions/paths.ts';
import { FLOWS, LARGE_FLOW } from './conditions/cases.ts';
import { bundleSize } from './foundation.ts';
import { fmt, summarize } from './stats.ts';

const N = 10_000;
const ROUNDS = 7;
const only = process.argv.slice(2);

const version = (pkg: string) => {
  try {
    return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;
  } catch {
    return undefined;
  }
};
const missing = CANDIDATES.flatMap((c) => c.packages).filter((p) => !version(p));
if (missing.length) {
  console.error(`not installed: ${missing.join(' ')} (npm install --no-save, see this file's header)`);
  process.exit(1);
}
const libs: Record<string, Lib> = {};
for (const c of CANDIDATES) if (c.module) libs[c.module] = await import(c.module);
const label = (i: number) => (i < 0 ? 'hand-written JS' : CANDIDATES[i]!.name);
const indexes = [-1, ...CANDIDATES.keys()].filter((i) => !only.length || only.some((o) => label(i).includes(o)));

console.log('== versions');
for (const c of CANDIDATES) for (const p of c.packages) console.log(`${p}@${version(p)}`);

// ---- Node's V8: compile once, then N evaluations, ROUNDS times; the median round.
console.log(`\n== Node ${process.version} (V8), ns per evaluation (median of ${ROUNDS} rounds of ${N}), compile µs`);
const flows = [...FLOWS.map((f) => ({ ...f, size: '4k' })), { ...LARGE_FLOW, size: '1m' }];
const nodeEval: Record<string, Record<string, number | string>> = {};
for (const i of indexes) {
  const c: Candidate | undefined = CANDIDATES[i];
  const row: Record<string, number | string> = (nodeEval[label(i)] = {});
  for (const flow of flows) {
    const col = flow.size === '1m' ? `${flow.name} 1MB` : flow.name;
    const source = c ? c.flows[flow.name] : flow.js;
    if (source === null) {
      row[col] = 'n/a';
      continue;
    }
    const compile = () => (c ? c.compile(c.module ? libs[c.module]! : {}, source as string) : flow.js);
    let check;
    try {
      check = compile();
    } catch (e) {
      row[col] = `error: ${(e as Error).message.split('\n')[0]}`;
      continue;
    }
    const rounds: number[] = [];
    // Two rounds first to warm the JIT, not counted.
    for (let r = -2; r < ROUNDS; r++) {
      const start = performance.now();
      if (c?.async) for (let k = 0; k < N; k++) await check(flow.match);
      else for (let k = 0; k < N; k++) check(flow.match);
      if (r >= 0) rounds.push(((performance.now() - start) * 1e6) / N);
    }
    row[col] = summarize(rounds).median;
    if (flow.size === '4k') {
      const cr: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const start = performance.now();
        for (let k = 0; k < 1000; k++) compile();
        cr.push(performance.now() - start);
      }
      row[`${flow.name} compile`] = summarize(cr).median;
    }
  }
}
printTable(
  nodeEval,
  flows.map((f) => (f.size === '1m' ? `${f.name} 1MB` : f.name)),
  (v) => fmt(v, 0),
);
printTable(
  nodeEval,
  FLOWS.map((f) => `${f.name} compile`),
  (v) => fmt(v, 2),
  'compile µs',
);

// ---- workerd: one bundle with every candidate, no nodejs_compat; requests timed from Node.
const entry = `${CANDIDATES.filter((c) => c.module)
  .map((c, k) => `import * as m${k} from '${c.module}';`)
  .join('\n')}
import { conditionsWorker } from './bench/conditions/worker.ts';
export default conditionsWorker({ ${CANDIDATES.filter((c) => c.module)
  .map((c, k) => `'${c.module}': m${k}`)
  .join(', ')} });`;
const bundle = await build({
  stdin: { contents: entry, resolveDir: PACKAGE_ROOT, loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  write: false,
  minify: true,
  logLevel: 'error',
});
const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [
      { name: 'conditions', modules: true, script: bundle.outputFiles[0]!.text, compatibilityDate: '2026-11-01' },
    ],
  }),
);
const ask = async (q: string) => {
  const start = performance.now();
  const res = await mf.dispatchFetch(`http://bench/?${q}`);
  const body = (await res.json()) as { matched?: number; error?: string };
  return { ms: performance.now() - start, ...body };
};
console.log(
  `\n== workerd (Miniflare), ns per evaluation: (median request of n - median request of 0) / n, n >= ${N} so a request runs >= 100 ms, ${ROUNDS} pairs`,
);
const workerdEval: Record<string, Record<string, number | string>> = {};
try {
  for (const i of indexes) {
    const row: Record<string, number | string> = (workerdEval[label(i)] = {});
    for (const flow of flows) {
      const col = flow.size === '1m' ? `${flow.name} 1MB` : flow.name;
      if (i >= 0 && CANDIDATES[i]!.flows[flow.name] === null) {
        row[col] = 'n/a';
        continue;
      }
      const q = (n: number, op = 'eval') => `candidate=${i}&flow=${flow.name}&size=${flow.size}&n=${n}&op=${op}`;
      const first = await ask(q(0));
      if (first.error) {
        row[col] = first.error;
        continue;
      }
      // At least N, more until a request runs 100 ms, so that the loop stands well above a request's own noise.
      let n = N;
      while ((await ask(q(n))).ms < 100 && n < 4_000_000) n *= 4;
      const full: number[] = [];
      const empty: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        full.push((await ask(q(n))).ms);
        empty.push((await ask(q(0))).ms);
      }
      row[col] = ((summarize(full).median - summarize(empty).median) * 1e6) / n;
      if (flow.size === '4k' && flow.name === 'stripe_mode') {
        const c: number[] = [];
        for (let r = 0; r < ROUNDS; r++) c.push((await ask(q(1000, 'compile'))).ms);
        row['stripe_mode compile'] = ((summarize(c).median - summarize(empty).median) * 1000) / 1000;
      }
    }
  }
} finally {
  await mf.dispose();
}
printTable(
  workerdEval,
  [...flows.map((f) => (f.size === '1m' ? `${f.name} 1MB` : f.name)), 'stripe_mode compile'],
  (v) => fmt(v, 0),
);

// ---- Bundle size: a tiny Worker that compiles and evaluates a condition with the candidate, minus the same Worker
// with no candidate (the harness). runtime/ is external: values.ts is in the Worker already.
const runtimeExternal: Plugin = {
  name: 'runtime-external',
  setup: (b) => b.onResolve({ filter: /runtime\// }, (a) => ({ path: a.path, external: true })),
};
const USES: Record<string, string> = {
  '': `const check = (s) => (p) => s.length > 0 && p;`,
  matcher: `import { compileMatcher } from './bench/conditions/matcher.ts'; const check = (s) => compileMatcher(JSON.parse(s));`,
  jsonata: `import jsonata from 'jsonata'; const check = (s) => { const e = jsonata(s); return (p) => e.evaluate(p); };`,
  '@marcbachmann/cel-js': `import { parse } from '@marcbachmann/cel-js'; const check = (s) => parse(s);`,
  '@bufbuild/cel': `import { celEnv, parse, plan } from '@bufbuild/cel'; const check = (s) => plan(celEnv(), parse(s));`,
  'cel-js': `import { parse, evaluate } from 'cel-js'; const check = (s) => { const r = parse(s); return (p) => evaluate(r.cst, p); };`,
  '@jmespath-community/jmespath': `import { compile, TreeInterpreter } from '@jmespath-community/jmespath'; const check = (s) => { const a = compile(s); return (p) => TreeInterpreter.search(a, p); };`,
  jmespath: `import { search } from 'jmespath'; const check = (s) => (p) => search(p, s);`,
  'json-logic-js': `import logic from 'json-logic-js'; const check = (s) => (p) => logic.apply(JSON.parse(s), p);`,
  'expr-eval': `import { Parser } from 'expr-eval'; const check = (s) => { const e = new Parser().parse(s); return (p) => e.evaluate(p); };`,
  filtrex: `import { compileExpression, useDotAccessOperator } from 'filtrex'; const check = (s) => compileExpression(s, { customProp: useDotAccessOperator });`,
};
const gz = async (key: string) => {
  const contents = `${USES[key]}\nexport default { async fetch(r) { const u = new URL(r.url); return Response.json(await check(u.searchParams.get('c'))(await r.json())); } };`;
  const out = await build({
    stdin: { contents, resolveDir: PACKAGE_ROOT, loader: 'js' },
    plugins: [runtimeExternal],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    write: false,
    minify: true,
    logLevel: 'error',
  });
  const code = out.outputFiles[0]!.contents;
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
};
console.log('\n== bundle: added by the candidate (esbuild --bundle --minify, gzip -9), KiB');
const harness = await gz('');
const built = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'cli/switchyard.ts'), 'build', '--quiet'], {
  cwd: PACKAGE_ROOT,
  encoding: 'utf8',
});
const worker = built.status === 0 ? bundleSize() : undefined;
if (worker)
  console.log(
    `the Worker today (wrangler deploy --dry-run): ${fmt(worker.raw / 1024, 1)} raw, ${fmt(worker.gzip / 1024, 1)} gzip`,
  );
for (const i of indexes.filter((i) => i >= 0)) {
  const s = await gz(CANDIDATES[i]!.module ?? 'matcher');
  const raw = (s.raw - harness.raw) / 1024;
  const gzip = (s.gzip - harness.gzip) / 1024;
  console.log(
    `${label(i)}: +${fmt(raw, 1)} raw, +${fmt(gzip, 1)} gzip${worker ? ` (+${fmt((100 * gzip * 1024) / worker.gzip, 0)}% of the Worker's gzip)` : ''}`,
  );
}

// ---- What the parser says about typos, and what a misspelled path does at run time.
const TYPOS: Record<string, string[]> = {
  jsonata: [
    'data.object.mode = ',
    'data.object.mode == "subscription"',
    '$lenght(ref) > 1',
    'data.object.mod = "subscription"',
  ],
  cel: [
    'data.object.mode == ',
    'data.object.mode = "subscription"',
    'lenght(ref) > 1',
    'data.object.mod == "subscription"',
  ],
  jmespath: [
    'data.object.mode == ',
    "data.object.mode = 'subscription'",
    'lenght(ref) > `1`',
    "data.object.mod == 'subscription'",
  ],
  'json-logic': [
    '{"==": [{"var": "data.object.mode"}]',
    '{"=": [{"var": "data.object.mode"}, "subscription"]}',
    '{"lenght": [{"var": "ref"}]}',
    '{"===": [{"var": "data.object.mod"}, "subscription"]}',
  ],
  expr: [
    'data.object.mode == ',
    'data.object.mode = "subscription"',
    'lenght(ref) > 1',
    'data.object.mod == "subscription"',
  ],
  filtrex: [
    'data.object.mode == ',
    'data.object.mode = "subscription"',
    'lenght(ref) > 1',
    'data.object.mod == "subscription"',
  ],
  matcher: [
    '{"path": "data.object.mode"}',
    '{"path": "data.object.mode", "equals": "subscription"}',
    '{"path": "data.object.amount_due", "gt": "100000"}',
    '{"path": "data.object.mod", "eq": "subscription"}',
  ],
};
const family = (c: Candidate) =>
  c.name.startsWith('CEL')
    ? 'cel'
    : c.name.startsWith('JMESPath')
      ? 'jmespath'
      : c.name.startsWith('json-logic')
        ? 'json-logic'
        : c.name.startsWith('expr')
          ? 'expr'
          : c.name.startsWith('JSONata')
            ? 'jsonata'
            : c.name.startsWith('filtrex')
              ? 'filtrex'
              : 'matcher';
console.log(
  '\n== typos: a syntax error, a wrong operator, an unknown function/operator, a misspelled path (answer on the matching Stripe event)',
);
for (const i of indexes.filter((i) => i >= 0)) {
  const c = CANDIDATES[i]!;
  const lib = c.module ? libs[c.module]! : {};
  console.log(`-- ${c.name}`);
  for (const typo of TYPOS[family(c)]!) {
    const source = (typo.startsWith('{') ? safeJson(typo) : typo) as string | Matcher;
    const message = (e: unknown) => {
      const err = e as Error & { position?: number; code?: string };
      const text = `${err.name ?? 'error'}${err.code ? ` ${err.code}` : ''}: ${String(err.message).replace(/\n+/g, ' | ')}`;
      return `${text.length > 200 ? `${text.slice(0, 200)}… (${text.length} chars)` : text}${err.position !== undefined ? ` [position ${err.position}]` : ''}`;
    };
    let said: string;
    let check;
    try {
      check = c.compile(lib, source);
      said = 'compile: ok';
      // CEL's own type check, without evaluating (what validate could run).
      if (lib.parse && c.module === '@marcbachmann/cel-js') {
        const checked = lib.parse(source).check();
        said += checked.valid ? '; check(): valid' : `; check(): ${message(checked.error)}`;
      }
      try {
        said += `; evaluates to ${JSON.stringify(await check(FLOWS[0]!.match))}`;
      } catch (e) {
        said += `; evaluation throws ${message(e)}`;
      }
    } catch (e) {
      said = `compile: ${message(e)}`;
    }
    console.log(`  ${typo}\n    -> ${said}`);
  }
}

// ---- Static path checks against a sample event (the matching event of each flow), as validate could run them.
console.log('\n== static path check against the sample: the five flows as written (expect none), then with typos');
const TYPO_FLOWS: Record<string, [string | Matcher, string | Matcher]> = {
  'matcher (prototype)': [
    { path: 'data.object.mod', eq: 'subscription' },
    {
      path: 'data.email_addresses',
      some: {
        all: [
          { path: 'id', eq: { path: 'data.primary_email_address_id' } },
          { path: 'verfication.status', eq: 'verified' },
        ],
      },
    },
  ],
  JSONata: [
    'data.object.mod = "subscription"',
    'data.email_addresses[id = $$.data.primary_email_address_id].verfication.status = "verified"',
  ],
  'CEL (@marcbachmann/cel-js)': [
    'data.object.mod == "subscription"',
    'data.email_addresses.exists(e, e.id == data.primary_email_address_id && e.verfication.status == "verified")',
  ],
  'JMESPath (@jmespath-community/jmespath)': [
    "data.object.mod == 'subscription'",
    "contains(data.email_addresses[?verfication.status == 'verified'].id, data.primary_email_address_id)",
  ],
};
const EXTRACT: Record<string, (source: string | Matcher) => ReadPath[]> = {
  'matcher (prototype)': (m) => matcherPaths(m as Matcher),
  JSONata: (s) => jsonataPaths(libs.jsonata!, s as string),
  'CEL (@marcbachmann/cel-js)': (s) => celPaths(libs['@marcbachmann/cel-js']!, s as string),
  'JMESPath (@jmespath-community/jmespath)': (s) => jmespathPaths(libs['@jmespath-community/jmespath']!, s as string),
};
for (const [name, extract] of Object.entries(EXTRACT)) {
  const c = CANDIDATES.find((x) => x.name === name)!;
  const clean = FLOWS.flatMap((f) => checkPaths(extract(c.flows[f.name]!), f.match));
  console.log(`-- ${name}: the five flows: ${clean.length ? clean.join('; ') : 'no problem'}`);
  TYPO_FLOWS[name]!.forEach((typo, k) => {
    const flow = FLOWS[k]!;
    console.log(
      `  ${typeof typo === 'string' ? typo : JSON.stringify(typo)}\n    -> ${checkPaths(extract(typo), flow.match).join('; ') || 'no problem found'}`,
    );
  });
}

// ---- For perspective: what the Worker already pays per event to parse the body.
const parseCost = (event: unknown) => {
  const body = JSON.stringify(event);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let k = 0; k < 200; k++) JSON.parse(body);
    rounds.push(((performance.now() - start) * 1e6) / 200);
  }
  return `${fmt(body.length / 1024, 0)} KiB: ${fmt(summarize(rounds).median / 1000, 1)} µs`;
};
console.log(
  `\n== JSON.parse of the body in Node (per event, already paid by ingest): ${parseCost(FLOWS[0]!.match)}; ${parseCost(LARGE_FLOW.match)}`,
);

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function printTable(
  rows: Record<string, Record<string, number | string>>,
  cols: string[],
  show: (v: number) => string,
  title = '',
) {
  if (title) console.log(`-- ${title}`);
  console.log(`| candidate | ${cols.join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const [name, row] of Object.entries(rows))
    console.log(
      `| ${name} | ${cols.map((c) => (typeof row[c] === 'number' ? show(row[c] as number) : (row[c] ?? ''))).join(' | ')} |`,
    );
}
