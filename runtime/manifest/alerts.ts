/** Alerts as the manifest declares them (`alerts:`), compiled: each condition becomes a measure over the event log. */
import type { AlertCondition } from './types.gen.ts';
import type { CompiledAction } from '../component/action.ts';
import { periodBounds } from '../lib/periods.ts';
import { countOpen, lastOpenError, oldestWaiting } from '../store/index.ts';

export const alertSchema = {
  type: 'object',
  title: 'Alert',
  additionalProperties: false,
  required: ['when', 'notify'],
  properties: {
    description: { type: 'string' },
    when: {
      type: 'object',
      title: 'AlertCondition',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        dead_letters: {
          type: 'object',
          additionalProperties: false,
          required: ['above'],
          properties: {
            above: { type: 'integer', minimum: 0 },
            integration: { type: 'string' },
            reason: {
              type: 'string',
              description: 'Only letters with this reason (e.g. `stuck`: events the sweep gave up on).',
            },
          },
          description: 'More open dead letters than this.',
        },
        rejections: {
          type: 'object',
          additionalProperties: false,
          required: ['above'],
          properties: {
            above: { type: 'integer', minimum: 0 },
            within: { $ref: '#/definitions/Duration' },
            integration: { type: 'string' },
          },
          description: 'More refused webhooks than this within the window (default 1h): a spike.',
        },
        limit_warned: { type: 'string', description: 'This limit reached its warn threshold in its current period.' },
        lag: {
          type: 'object',
          additionalProperties: false,
          required: ['above'],
          properties: { above: { $ref: '#/definitions/Duration' }, integration: { type: 'string' } },
          description: 'The oldest unprocessed event is older than this.',
        },
      },
    },
    notify: { $ref: '#/definitions/Step', description: 'An action step (email, or http for Slack).' },
  },
} as const;

export type { AlertCondition } from './types.gen.ts';

export interface CompiledAlert {
  name: string;
  /**
   * The current value and whether it crosses the threshold; `detail` reads what the notification says besides (only
   * when an incident opens).
   */
  measure(
    db: D1Database,
    nowMs: number,
  ): Promise<{
    active: boolean;
    value: number;
    threshold: number | string;
    detail?: () => Promise<Record<string, unknown>>;
  }>;
  notify: CompiledAction;
}

/** Compiles a condition into a measurement (durations parsed once). */
export function compileCondition(
  when: AlertCondition,
  parse: (d: string) => number,
  periodOf: (limit: string) => import('../lib/periods.ts').Period | undefined,
): CompiledAlert['measure'] {
  if (when.dead_letters) {
    const { above, integration, reason } = when.dead_letters;
    return async (db) => {
      const n = await countOpen(db, integration, reason);
      // The newest letter's error: what happened, in words (a stuck event's says how many times it was tried).
      return {
        active: n > above,
        value: n,
        threshold: above,
        detail: async () => ({ last_error: await lastOpenError(db, integration, reason) }),
      };
    };
  }
  if (when.rejections) {
    const { above, integration } = when.rejections;
    const window = parse(when.rejections.within ?? '1h');
    return async (db, now) => {
      const since = periodBounds('hour', now - window).start;
      const row = await db
        .prepare(
          "SELECT coalesce(sum(n), 0) AS n FROM usage WHERE metric >= 'rejections.' AND metric < 'rejections/' AND (?1 IS NULL OR metric = 'rejections.' || ?1) AND period_start >= ?2",
        )
        .bind(integration ?? null, since)
        .first<{ n: number }>();
      return { active: (row?.n ?? 0) > above, value: row?.n ?? 0, threshold: above };
    };
  }
  if (when.limit_warned) {
    const limit = when.limit_warned;
    const period = periodOf(limit);
    if (!period) throw new Error(`limit ${JSON.stringify(limit)} is not declared under limits:`);
    return async (db, now) => {
      const row = await db
        .prepare(
          "SELECT count(*) AS n FROM limit_alerts WHERE metric = ?1 AND period_start = ?2 AND level IN ('warn', 'exceeded')",
        )
        .bind(limit, periodBounds(period, now).start)
        .first<{ n: number }>();
      return { active: (row?.n ?? 0) > 0, value: row?.n ?? 0, threshold: 'warn_at' };
    };
  }
  if (when.lag) {
    const above = parse(when.lag.above);
    const integration = when.lag.integration;
    return async (db, now) => {
      const oldest = await oldestWaiting(db, integration);
      const lag = oldest ? now - Date.parse(oldest) : 0;
      return { active: lag > above, value: Math.round(lag / 1000), threshold: Math.round(above / 1000) };
    };
  }
  throw new Error('an alert needs one condition: dead_letters, rejections, limit_warned or lag');
}
