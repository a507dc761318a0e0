/** `retention:` (the policy in manifest/retention.ts, applied by operations/prune.ts on the cron): pure data. */
import { field } from '../../component/spec.ts';

export const retentionSpec = {
  payloads: field.duration().describe('Keep raw webhook bodies this long.').default('30d'),
  events: field.duration().describe('Keep event metadata this long.').default('90d'),
  dead_letters: field
    .duration()
    .describe('Keep unreplayed dead letters this long; replayed ones go at the next prune.')
    .default('90d'),
  refusals: field.duration().describe('Keep the log of refused requests this long.').default('7d'),
  batch: field.integer({ minimum: 10, maximum: 5000 }).describe('Rows per statement.').default(500),
};

/** The Retention definition; absent means every default. */
export const retention = field.object(retentionSpec).title('Retention');
