/** docs/counters-and-refusals.md states the caps, costs and bounds the code uses: each figure from its constant. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFUSAL_CAPS, REFUSAL_ROWS_PER_DAY, REFUSAL_ROWS_WRITTEN } from '../../runtime/edge/refusals.ts';
import { ROLLUP_BATCH, ROLLUP_ROUNDS, SETTLE_GRACE_MS, TAIL_LIMIT } from '../../runtime/operations/counters.ts';
import { retentionPolicy } from '../../runtime/manifest/retention.ts';
import { PLAN_ALLOWANCES } from '../../runtime/lib/platform.ts';
import { ROOT } from '../support/project.ts';

const doc = readFileSync(join(ROOT, 'docs/counters-and-refusals.md'), 'utf8').replace(/\s+/g, ' ');
const n = (v: number) => v.toLocaleString('en-US');

describe('docs/counters-and-refusals.md', () => {
  it('states the refusal log’s caps, rows per refusal, worst case a day and retention as the code has them', () => {
    expect(doc).toContain(`At most ${REFUSAL_CAPS.per_integration_per_minute} refusals per integration per minute`);
    expect(doc).toContain(`at most ${REFUSAL_CAPS.per_hour} an hour in all`);
    expect(doc).toContain(`writes ${REFUSAL_ROWS_WRITTEN} rows (\`REFUSAL_ROWS_WRITTEN\`)`);
    expect(doc).toContain(
      `${n(REFUSAL_CAPS.per_hour * 24)} refusals logged, ${n(REFUSAL_ROWS_PER_DAY)} rows written a day`,
    );
    expect(doc).toContain(
      `${((REFUSAL_ROWS_PER_DAY / PLAN_ALLOWANCES.free.d1_rows_written) * 100).toFixed(1)}% of the free plan's ${n(PLAN_ALLOWANCES.free.d1_rows_written)}`,
    );
    expect(doc).toContain(`(default \`${retentionPolicy(undefined).refusalsMs / 86_400_000}d\`)`);
    expect(doc).toContain(`${REFUSAL_CAPS.per_hour} × 24 × 7 = ${n(REFUSAL_CAPS.per_hour * 24 * 7)} rows`);
  });

  it('states the rollup’s bounds as the code has them', () => {
    expect(doc).toContain(`the newest ${n(TAIL_LIMIT)} at most (\`TAIL_LIMIT\`)`);
    expect(doc).toContain(`less than ${SETTLE_GRACE_MS / 60_000} minutes ago (\`SETTLE_GRACE_MS\`)`);
    expect(doc).toContain(`at most ${ROLLUP_ROUNDS} rounds of ${ROLLUP_BATCH} events per run`);
  });
});
