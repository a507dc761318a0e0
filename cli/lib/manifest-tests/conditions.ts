/**
 * Condition coverage for `switchyard test --coverage`: how often each condition (`if:` of a handler or a step) was
 * true and how often false over the cases, like branch coverage. The counts come from the compiled manifest itself
 * (its ConditionObserver), so they are the runtime's own evaluations, and the Worker counts nothing. Worker-safe:
 * the workerd agreement test counts with it too.
 */
import type { ConditionObserver } from '../../../runtime/manifest/compile.ts';

/** How often a condition held and how often it did not. */
export interface Outcomes {
  true: number;
  false: number;
}

/** A condition of the manifest, as it compiled: its manifest path (as text and as keys) and the condition as written. */
export interface DeclaredCondition {
  at: string;
  path: (string | number)[];
  text: string;
}

/**
 * Collects the conditions a manifest compiles and counts their outcomes: hand it to `compileManifest` as
 * `conditions`, and `take()` after each case what that case evaluated.
 * @example const tally = new ConditionTally(); compileManifest(m, registry, { conditions: tally }); ... tally.take()
 */
export class ConditionTally implements ConditionObserver {
  readonly declared: DeclaredCondition[] = [];
  private counts = new Map<string, Outcomes>();

  compiled(at: string, path: (string | number)[], text: string): void {
    if (!this.declared.some((d) => d.at === at)) this.declared.push({ at, path, text });
  }

  evaluated(at: string, holds: boolean): void {
    let c = this.counts.get(at);
    if (!c) this.counts.set(at, (c = { true: 0, false: 0 }));
    if (holds) c.true++;
    else c.false++;
  }

  /** The outcomes counted since the last take, by condition, and starts counting afresh. */
  take(): Record<string, Outcomes> {
    const out = Object.fromEntries(this.counts);
    this.counts = new Map();
    return out;
  }
}

/** One condition's line of the coverage report. */
export interface ConditionCoverage extends Outcomes {
  at: string;
  path: (string | number)[];
  condition: string;
}

/**
 * Every declared condition with its outcomes summed over the cases, the ones missing an outcome first (never
 * evaluated, then never true or never false), each group in manifest order.
 */
export function conditionCoverage(
  declared: readonly DeclaredCondition[],
  perCase: readonly Record<string, Outcomes>[],
): { conditions: ConditionCoverage[]; seen: number; total: number; both: number } {
  const conditions = declared.map((d) => {
    const sum = { true: 0, false: 0 };
    for (const counts of perCase) {
      sum.true += counts[d.at]?.true ?? 0;
      sum.false += counts[d.at]?.false ?? 0;
    }
    return { at: d.at, path: d.path, condition: d.text, ...sum };
  });
  const seen = (c: Outcomes) => (c.true > 0 ? 1 : 0) + (c.false > 0 ? 1 : 0);
  const sorted = conditions
    .map((c, i) => ({ c, i }))
    .sort((a, b) => seen(a.c) - seen(b.c) || a.i - b.i)
    .map((x) => x.c);
  return {
    conditions: sorted,
    seen: conditions.reduce((n, c) => n + seen(c), 0),
    total: conditions.length * 2,
    both: conditions.filter((c) => seen(c) === 2).length,
  };
}

/** What a condition's counts lack, in words (`never false`), or nothing when it was seen both ways. */
export function conditionGap(c: Outcomes): string | undefined {
  if (!c.true && !c.false) return 'never evaluated';
  if (!c.true) return 'never true';
  if (!c.false) return 'never false';
  return undefined;
}
