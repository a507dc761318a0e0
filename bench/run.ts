/** `npm run bench`: prints every benchmark's figures, with ratios against targets or baselines from the same run. */
import { runFoundation } from './foundation.ts';
import { runConsumer } from './consumer.ts';
import { runPostgresConsumer } from './postgres.ts';
import { runIngest } from './ingest.ts';
import { runCpu } from './cpu.ts';
import { runFlows } from './capacity.ts';
import { runConditions } from './conditions.ts';

const results: [string, boolean][] = [['foundation', runFoundation()]];
results.push(['cpu', await runCpu()]);
results.push(['ingest', await runIngest()]);
// Conditions and derived values: figures only (issue 26), no target.
await runConditions();
results.push(['consumer', await runConsumer()]);
results.push(['postgres consumer', await runPostgresConsumer()]);
results.push(['flows (free-plan capacity targets)', await runFlows()]);
console.log(`\n${results.map(([name, ok]) => `${name}: ${ok ? 'within target' : 'OUTSIDE TARGET'}`).join('\n')}`);
