/**
 * The candidate condition languages of issue 26: each with the five flows written in its syntax, and how it compiles
 * and evaluates one. Libraries come in as modules (`lib`), imported by the caller, so this file type-checks and the
 * project's dependency rules hold when they are not installed (they are measured with `npm install --no-save`).
 */
import type { FlowName } from './cases.ts';
import { compileMatcher, type Matcher } from './matcher.ts';

/** A library's module namespace, as `import * as lib` gives it. */
export type Lib = Record<string, any>;
/** A compiled condition: true when the event matches (JSONata's evaluate answers a promise). */
export type Check = (payload: unknown) => unknown;

export interface Candidate {
  /** The label in the doc's tables. */
  name: string;
  /** The npm packages it needs (exact versions are recorded in the doc); none for the prototype and the baseline. */
  packages: string[];
  /** The module the entry imports (`import * as lib from module`). */
  module?: string;
  /** Each flow in this syntax; null where the language cannot say it. */
  flows: Record<FlowName, string | Matcher | null>;
  /** Parse once (what the manifest's compile would do). */
  compile(lib: Lib, source: string | Matcher): Check;
  /** True when evaluate answers a promise. */
  async?: boolean;
}

const text = (s: string | Matcher) => s as string;

const jmespathFlows = {
  stripe_mode: "data.object.mode == 'subscription'",
  clerk_verified:
    "contains(data.email_addresses[?verification.status == 'verified'].id, data.primary_email_address_id)",
  sms_opt_in: "data.object.metadata.notify_sms == 'true'",
  big_invoice: "data.object.currency == 'usd' && data.object.amount_due > `100000`",
  github_main: "ref == 'refs/heads/main'",
};

const celFlows = {
  stripe_mode: 'data.object.mode == "subscription"',
  clerk_verified:
    'data.email_addresses.exists(e, e.id == data.primary_email_address_id && e.verification.status == "verified")',
  sms_opt_in: 'data.object.metadata.notify_sms == "true"',
  big_invoice: 'data.object.currency == "usd" && data.object.amount_due > 100000',
  github_main: 'ref == "refs/heads/main"',
};

export const CANDIDATES: Candidate[] = [
  {
    name: 'matcher (prototype)',
    packages: [],
    flows: {
      stripe_mode: { path: 'data.object.mode', eq: 'subscription' },
      clerk_verified: {
        path: 'data.email_addresses',
        some: {
          all: [
            { path: 'id', eq: { path: 'data.primary_email_address_id' } },
            { path: 'verification.status', eq: 'verified' },
          ],
        },
      },
      sms_opt_in: { path: 'data.object.metadata.notify_sms', eq: 'true' },
      big_invoice: {
        all: [
          { path: 'data.object.currency', eq: 'usd' },
          { path: 'data.object.amount_due', gt: 100000 },
        ],
      },
      github_main: { path: 'ref', eq: 'refs/heads/main' },
    },
    compile: (_lib, source) => compileMatcher(source as Matcher),
  },
  {
    name: 'JSONata',
    packages: ['jsonata'],
    module: 'jsonata',
    async: true,
    flows: {
      stripe_mode: 'data.object.mode = "subscription"',
      clerk_verified: 'data.email_addresses[id = $$.data.primary_email_address_id].verification.status = "verified"',
      sms_opt_in: 'data.object.metadata.notify_sms = "true"',
      big_invoice: 'data.object.currency = "usd" and data.object.amount_due > 100000',
      github_main: 'ref = "refs/heads/main"',
    },
    compile: (lib, source) => {
      const expr = lib.default(text(source));
      return (payload) => expr.evaluate(payload);
    },
  },
  {
    name: 'CEL (@marcbachmann/cel-js)',
    packages: ['@marcbachmann/cel-js'],
    module: '@marcbachmann/cel-js',
    flows: celFlows,
    compile: (lib, source) => {
      const expr = lib.parse(text(source));
      return (payload) => expr(payload);
    },
  },
  {
    name: 'CEL (cel-js)',
    packages: ['cel-js'],
    module: 'cel-js',
    flows: celFlows,
    compile: (lib, source) => {
      const parsed = lib.parse(text(source));
      if (!parsed.isSuccess) throw new Error(parsed.errors.join('; '));
      return (payload) => lib.evaluate(parsed.cst, payload);
    },
  },
  {
    name: 'CEL (@bufbuild/cel)',
    packages: ['@bufbuild/cel'],
    module: '@bufbuild/cel',
    flows: celFlows,
    // plan() answers a CelError value (never throws) for a failed evaluation: surfaced as a throw, as the others do.
    compile: (lib, source) => {
      const run = lib.plan(lib.celEnv(), lib.parse(text(source)));
      return (payload) => {
        const r = run(payload);
        if (lib.isCelError(r)) throw new Error(r.message);
        return r;
      };
    },
  },
  {
    name: 'JMESPath (@jmespath-community/jmespath)',
    packages: ['@jmespath-community/jmespath'],
    module: '@jmespath-community/jmespath',
    flows: jmespathFlows,
    compile: (lib, source) => {
      const ast = lib.compile(text(source));
      return (payload) => lib.TreeInterpreter.search(ast, payload);
    },
  },
  {
    name: 'JMESPath (jmespath)',
    packages: ['jmespath'],
    module: 'jmespath',
    flows: jmespathFlows,
    // Its only public evaluation parses the text again on every call (search); compile checks it parses.
    compile: (lib, source) => {
      const s = text(source);
      lib.compile(s);
      return (payload) => lib.search(payload, s);
    },
  },
  {
    name: 'json-logic-js',
    packages: ['json-logic-js'],
    module: 'json-logic-js',
    flows: {
      stripe_mode: { '===': [{ var: 'data.object.mode' }, 'subscription'] },
      clerk_verified: {
        in: [
          { var: 'data.primary_email_address_id' },
          {
            map: [
              { filter: [{ var: 'data.email_addresses' }, { '===': [{ var: 'verification.status' }, 'verified'] }] },
              { var: 'id' },
            ],
          },
        ],
      },
      sms_opt_in: { '===': [{ var: 'data.object.metadata.notify_sms' }, 'true'] },
      big_invoice: {
        and: [
          { '===': [{ var: 'data.object.currency' }, 'usd'] },
          { '>': [{ var: 'data.object.amount_due' }, 100000] },
        ],
      },
      github_main: { '===': [{ var: 'ref' }, 'refs/heads/main'] },
    },
    compile: (lib, source) => {
      const logic = lib.default ?? lib;
      if (!logic.is_logic(source)) throw new Error('not a JsonLogic rule');
      return (payload) => logic.apply(source, payload);
    },
  },
  {
    name: 'expr-eval',
    packages: ['expr-eval'],
    module: 'expr-eval',
    flows: {
      stripe_mode: 'data.object.mode == "subscription"',
      clerk_verified:
        'indexOf(data.primary_email_address_id, map(f(e) = e.id, filter(g(e) = e.verification.status == "verified", data.email_addresses))) >= 0',
      sms_opt_in: 'data.object.metadata.notify_sms == "true"',
      big_invoice: 'data.object.currency == "usd" and data.object.amount_due > 100000',
      github_main: 'ref == "refs/heads/main"',
    },
    compile: (lib, source) => {
      const expr = new lib.Parser().parse(text(source));
      return (payload) => expr.evaluate(payload);
    },
  },
  {
    name: 'filtrex',
    packages: ['filtrex'],
    module: 'filtrex',
    flows: {
      stripe_mode: 'data.object.mode == "subscription"',
      clerk_verified: null,
      sms_opt_in: 'data.object.metadata.notify_sms == "true"',
      big_invoice: 'data.object.currency == "usd" and data.object.amount_due > 100000',
      github_main: 'ref == "refs/heads/main"',
    },
    compile: (lib, source) => lib.compileExpression(text(source), { customProp: lib.useDotAccessOperator }),
  },
];
