/**
 * What each write of the per-event path pays for, in D1's rows written, on the migrated schema: the table row and
 * every index entry (see d1-counting.test.ts for the rules). Each table keeps only the keys a guarantee needs:
 *
 * | table        | written per insert | what it pays for                                                                  |
 * |--------------|--------------------|------------------------------------------------------------------------------------|
 * | events       | 2                  | the row (rowid `seq`: arrival order, the walks) + UNIQUE (integration, id): dedup; |
 * |              |                    | WITHOUT ROWID would need `seq` indexed again: 2 as well (measured below)           |
 * | effects      | 2, settled 1       | the row (WITHOUT ROWID: its key is the idempotency key) + `effects_open` while     |
 * |              |                    | leased: the sweep takes back a lapsed lease; leaving the index when sent is free   |
 * | outbox       | 2, deleted 1       | WITHOUT ROWID, keyed by its key (a step sends once; was 3) + (integration,         |
 * |              |                    | event_id): retention keeps an event while it has an unsent message                 |
 * | usage        | 1 new, 1 counted   | WITHOUT ROWID (metric, period_start, key): the atomic count (was 2 per new counter)|
 * | limit_alerts | 1                  | WITHOUT ROWID: warn once per threshold and period (was 2)                          |
 * | seen_users   | 1                  | WITHOUT ROWID: on_first_seen once per user (was 2)                                 |
 * | active_users | 1                  | WITHOUT ROWID: a user counts once per period                                       |
 * | attempts     | 1                  | WITHOUT ROWID: each failed attempt, for the event log                              |
 * | email_logs   | 2                  | the public contract table (rowid + TEXT PRIMARY KEY), kept as applications made it |
 * | sms_logs     | 2                  | the same                                                                           |
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { activeUserStatements, alertOnceStatement, countStatement } from '../../runtime/consumer/limits.ts';
import * as store from '../../runtime/store/index.ts';

const AT = '2026-06-15T12:00:00.000Z';
const written = async (...statements: D1PreparedStatement[]) =>
  (await env.DB.batch(statements)).reduce((n, r) => n + (r.meta.rows_written ?? 0), 0);
const envelope = (id: string) => ({
  integration: 'stripe',
  id,
  type: 'invoice.payment_failed',
  occurred_at: AT,
  received_at: AT,
  payload: {},
});

describe('rows written per bookkeeping write, on the migrated schema', () => {
  it('events: 2 per event recorded (the row and its dedup key), 1 when it is applied', async () => {
    expect(await written(store.claimStatement(env.DB, envelope('rows_1'), '{}', 'token', Date.parse(AT)))).toBe(2);
    expect(
      await written(
        ...store.appliedStatements(
          env.DB,
          [
            {
              integration: 'stripe',
              id: 'rows_1',
              type: 't',
              received_at: AT,
              attempts: 1,
              steps: '[]',
              status: store.EventStatus.applied,
            },
          ],
          AT,
        ),
      ),
    ).toBe(1);
    expect(
      await written(store.appliedClaimStatement(env.DB, envelope('rows_2'), '{}', '[]', store.EventStatus.applied, AT)),
    ).toBe(2);
  });

  it('events cannot be cheaper WITHOUT ROWID: keyed (integration, id), the arrival order the walks read needs an index back', async () => {
    await env.DB.batch([
      env.DB.prepare(
        'CREATE TABLE IF NOT EXISTS events_wr (integration TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (integration, id)) WITHOUT ROWID',
      ),
      env.DB.prepare('CREATE INDEX IF NOT EXISTS events_wr_seq ON events_wr (seq)'),
    ]);
    expect(
      await written(env.DB.prepare("INSERT INTO events_wr (integration, id, seq) VALUES ('stripe', 'wr_1', 1)")),
    ).toBe(2);
  });

  it('effects: 2 per effect recorded (its row and its lease in effects_open), 1 when it is settled sent', async () => {
    const effect = {
      integration: 'stripe',
      id: 'rows_1',
      step: '0:0',
      action: 'resend',
      source: 's',
      payload: '{}',
      limits: null,
    };
    expect(await written(...store.insertEffects(env.DB, [effect], 'lease', AT, AT))).toBe(2);
    expect(
      await written(
        store.settleStatement(env.DB, effect, 'lease', { status: store.EffectStatus.sent, result: {} }, AT),
      ),
    ).toBe(1);
  });

  it('outbox: 2 per message (WITHOUT ROWID: the row is its send-once key, and the index by event; it was 3), 1 to delete it', async () => {
    expect(
      await written(
        store.outboxStatement(
          env.DB,
          { key: 'stripe:rows_1:1', integration: 'stripe', id: 'rows_1', queue: 'q', body: '{}' },
          AT,
        ),
      ),
    ).toBe(2);
    expect((await env.DB.prepare("DELETE FROM outbox WHERE key = 'stripe:rows_1:1'").run()).meta.rows_written).toBe(1);
  });

  it('usage: 1 per new counter (WITHOUT ROWID; it was 2), 1 per count after', async () => {
    expect(
      await written(countStatement(env.DB, 'resend.emails', 'rows@example.com', '2026-06-01T00:00:00.000Z', 100)),
    ).toBe(1);
    expect(
      await written(countStatement(env.DB, 'resend.emails', 'rows@example.com', '2026-06-01T00:00:00.000Z', 100)),
    ).toBe(1);
  });

  it('limit_alerts: 1 per warning (was 2); a repeat writes nothing', async () => {
    expect(
      await written(alertOnceStatement(env.DB, 'resend.emails', '*', '2026-06-01T00:00:00.000Z', 'warn', AT)),
    ).toBe(1);
    expect(
      await written(alertOnceStatement(env.DB, 'resend.emails', '*', '2026-06-01T00:00:00.000Z', 'warn', AT)),
    ).toBe(0);
  });

  it('seen_users: 1 per new user (was 2)', async () => {
    expect(
      await written(
        env.DB.prepare('INSERT INTO seen_users (provider, sub, first_seen_at) VALUES (?1, ?2, ?3)').bind(
          'clerk',
          'user_rows',
          AT,
        ),
      ),
    ).toBe(1);
  });

  it('active_users: 1 per marker, and the count beside it 1 (a new counter) ', async () => {
    expect(
      await written(
        ...activeUserStatements(env.DB, 'clerk.active_users', 'user_rows', '2026-06-01T00:00:00.000Z', 5000),
      ),
    ).toBe(2);
  });

  it('attempts: 1 per failed attempt', async () => {
    expect(
      await written(
        store.attemptStatement(
          env.DB,
          { integration: 'stripe', id: 'rows_1', target: 'event', n: 1, durationMs: 10, error: 'x' },
          AT,
        ),
      ),
    ).toBe(1);
  });

  it('email_logs and sms_logs (public contract tables, kept as they are): 2 per row', async () => {
    expect(
      await written(
        env.DB.prepare(
          "INSERT INTO email_logs (id, to_email, subject, status, sent_at) VALUES ('re_rows', 'a@b', 's', 'sent', ?1) ON CONFLICT (id) DO NOTHING",
        ).bind(AT),
      ),
    ).toBe(2);
    expect(
      await written(
        env.DB.prepare(
          "INSERT INTO sms_logs (sid, to_number, body, status, sent_at) VALUES ('SM_rows', '+1', 'b', 'sent', ?1) ON CONFLICT (sid) DO NOTHING",
        ).bind(AT),
      ),
    ).toBe(2);
  });
});
