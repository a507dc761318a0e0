/**
 * GET /admin/api/refusals: the refusal log (runtime/edge/refusals.ts), newest first, by integration, with a cursor
 * (`before`, the `at` of the last row of a page). Behind the admin credential, like the rest of the admin API.
 */
import { Hono } from 'hono/tiny';
import { REFUSAL_CAPS, REFUSAL_ROWS_PER_DAY, REFUSAL_ROWS_WRITTEN } from '../edge/refusals.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { httpError } from '../lib/http.ts';
import { listRefusals } from '../store/refusals.ts';

type Env = { Bindings: RuntimeEnv; Variables: { actor: string } };

/** The admin routes under /refusals. */
export function refusalsApi(): Hono<Env> {
  const api = new Hono<Env>();
  api.get('/', async (c) => {
    const limit = Math.min(200, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    const before = c.req.query('before') ?? null;
    if (before !== null && Number.isNaN(Date.parse(before)))
      throw httpError(400, {
        error: 'bad_request',
        message: 'before is a time (the `at` of a refusal this API returned)',
      });
    const refusals = await listRefusals(c.env.DB, { integration: c.req.query('integration') ?? null, before }, limit);
    return c.json({
      refusals,
      next_before: refusals.length === limit ? refusals[refusals.length - 1]!.at : null,
      // What the log keeps at most, so a reader knows a quiet log from a capped one.
      caps: {
        ...REFUSAL_CAPS,
        rows_written_each: REFUSAL_ROWS_WRITTEN,
        rows_written_per_day_at_most: REFUSAL_ROWS_PER_DAY,
      },
    });
  });
  return api;
}
