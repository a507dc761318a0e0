/**
 * A Postgres projection store, reached through a Hyperdrive binding with node-postgres (`pg`, handed in as a
 * PostgresConnect: see adapters/stores/pg.ts). The applied-marker
 * of a projection lives here, in `switchyard_applied`, and is written in the SAME Postgres transaction as the
 * projection: a redelivered event finds its marker and applies nothing, even though the event log is in D1.
 *
 * Hyperdrive pools in transaction mode: a connection is ours only for the length of one transaction. So nothing
 * here relies on session state (no SET, no named prepared statements, no temp tables, no advisory locks): every
 * write is inside BEGIN..COMMIT, and parameters go through pg's unnamed statements (Parse/Bind with no name).
 * One client per batch (a Worker invocation): Hyperdrive keeps the pool, so connecting is cheap. The client
 * pipelines (pg's `pipeline` mode: each query its own Sync, sent without waiting for the one before), so a batch
 * costs two round trips, whatever its size: BEGIN with the markers, then every projection with COMMIT. Between
 * the Worker and a distant database that is the difference between milliseconds and seconds per batch.
 */
import { PermanentError, type Statement } from '../component/context.ts';
import { keyOf, type EventKey } from './events.ts';

/** What a Hyperdrive binding offers (and what Node code can hand in: a connection string). */
export interface PostgresBinding {
  connectionString: string;
}

/**
 * The part of a client the store uses: queries (sent together, so a pg client pipelines them) and `end`. A pg
 * Client is one (adapters/stores/pg.ts); `switchyard test` opens one over PGlite (openPg with PGlite's connection),
 * so its cases run this module's transactions and SQL.
 */
interface PostgresClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/**
 * Opens a client for a store's binding (the caller ends it). This module imports no driver: the composition root
 * hands one in (the Worker: the module `switchyard build` generates; Node: adapters/stores/pg.ts `connectPg`).
 */
export type PostgresConnect = (binding: PostgresBinding) => Promise<PostgresClient>;

/** The applied-markers of Postgres projections, keyed like the event log. Created on first use if absent. */
const APPLIED_TABLE_DDL = `CREATE TABLE IF NOT EXISTS switchyard_applied (
  integration text NOT NULL,
  id text NOT NULL,
  version text,              -- the event's @version (occurred_at#arrival), the value ordering guards compare
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration, id)
)`;

// One round trip marks every event of a group: the rows it returns are the events not applied before.
const MARK_SQL = `INSERT INTO switchyard_applied (integration, id, version)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
ON CONFLICT (integration, id) DO NOTHING
RETURNING integration, id`;

/** One event's projection into Postgres. */
interface PostgresEvent {
  key: EventKey;
  version: string;
  statements: Statement[];
}

/** Per event (by keyOf): applied now, applied before (its marker was there), or the error its transaction hit. */
export type PostgresOutcome = 'applied' | 'duplicate' | Error;

/**
 * A Postgres error the event cannot outlive by waiting (bad data, a constraint, a missing column): SQLSTATE classes
 * 22, 23, 42 and 0A. Anything else (connection, serialization, too many connections) is worth retrying.
 */
export class PostgresSqlError extends PermanentError {
  override name = 'PostgresSqlError';
  readonly sqlstate: string;
  constructor(sqlstate: string, message: string) {
    super(`${message} (SQLSTATE ${sqlstate})`);
    this.sqlstate = sqlstate;
  }
}

const PERMANENT_CLASSES = new Set(['22', '23', '42', '0A']);

/** A pg error as the consumer classifies it: permanent SQL errors become PostgresSqlError. */
function postgresError(error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const message = (error as Error).message;
    return PERMANENT_CLASSES.has(code.slice(0, 2))
      ? new PostgresSqlError(code, message)
      : new Error(`Postgres: ${message} (SQLSTATE ${code})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Why a Postgres store cannot be reached when no driver was handed in (a build out of step with its manifest). */
const NO_DRIVER_MESSAGE = 'this build has no Postgres driver: run switchyard build';

/** The connect of a runtime composed without a driver: every use fails, retryably, with {@link NO_DRIVER_MESSAGE}. */
const noDriver: PostgresConnect = () => Promise.reject(new Error(NO_DRIVER_MESSAGE));

const missingMarkerTable = (error: unknown) =>
  (error as { code?: string })?.code === '42P01' && /switchyard_applied/.test(String((error as Error)?.message));

/**
 * Sends queries together (pipelined: one round trip) and waits for all; throws the first failure. After a failed
 * statement Postgres refuses the rest of the transaction (25P02) and answers its COMMIT with a rollback, so the
 * first failure is the culprit and nothing of the transaction stays.
 */
type Result = Awaited<ReturnType<PostgresClient['query']>>;

async function together(queries: Promise<Result>[]): Promise<Result[]> {
  const settled = await Promise.allSettled(queries);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<Result>).value);
}

/**
 * One transaction in two round trips: BEGIN with `first`, then what `then` sends for its result with COMMIT.
 * Creates the marker table once if it is missing, and runs it again.
 */
async function transaction(
  client: PostgresClient,
  first: () => Promise<Result>,
  then: (result: Result) => Promise<Result>[],
): Promise<Result> {
  for (let attempt = 0; ; attempt++) {
    try {
      const [, result] = await together([client.query('BEGIN'), first()]);
      await together([...then(result!), client.query('COMMIT')]);
      return result!;
    } catch (error) {
      // After a failed COMMIT or statement the transaction is over already; a ROLLBACK then only warns.
      await client.query('ROLLBACK').catch(() => undefined);
      if (attempt === 0 && missingMarkerTable(error)) {
        await client.query(APPLIED_TABLE_DDL);
        continue;
      }
      throw error;
    }
  }
}

/**
 * Applies events with their applied-markers, all in one transaction; when that fails, one transaction per event so
 * only the culprit fails (as the D1 commit does). An event whose marker was there already runs none of its
 * statements: a redelivery, a replay of an applied event, or a consumer that died between this commit and the
 * event log's update settles as a duplicate.
 */
export async function applyToPostgres(
  binding: PostgresBinding,
  events: readonly PostgresEvent[],
  connect: PostgresConnect = noDriver,
): Promise<Map<string, PostgresOutcome>> {
  const outcomes = new Map<string, PostgresOutcome>();
  if (!events.length) return outcomes;
  let client: PostgresClient;
  try {
    client = await connect(binding);
  } catch (error) {
    const failure = postgresError(error);
    for (const e of events) outcomes.set(keyOf(e.key), failure);
    return outcomes;
  }
  const apply = async (group: readonly PostgresEvent[]) => {
    let fresh = new Set<string>();
    await transaction(
      client,
      () =>
        client.query(MARK_SQL, [group.map((e) => e.key[0]), group.map((e) => e.key[1]), group.map((e) => e.version)]),
      (marked) => {
        fresh = new Set((marked.rows as { integration: string; id: string }[]).map((r) => keyOf(r)));
        return group
          .filter((e) => fresh.has(keyOf(e.key)))
          .flatMap((e) => e.statements.map((s) => client.query(s.sql, s.params)));
      },
    );
    return fresh;
  };
  try {
    try {
      const fresh = await apply(events);
      for (const e of events) outcomes.set(keyOf(e.key), fresh.has(keyOf(e.key)) ? 'applied' : 'duplicate');
    } catch (error) {
      if (events.length === 1) {
        outcomes.set(keyOf(events[0]!.key), postgresError(error));
        return outcomes;
      }
      for (const e of events) {
        try {
          const fresh = await apply([e]);
          outcomes.set(keyOf(e.key), fresh.size ? 'applied' : 'duplicate');
        } catch (single) {
          outcomes.set(keyOf(e.key), postgresError(single));
        }
      }
    }
    return outcomes;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs statements in one transaction without markers (rebuild: projections are idempotent upserts). */
export async function runInPostgres(
  binding: PostgresBinding,
  statements: readonly Statement[],
  connect: PostgresConnect = noDriver,
): Promise<void> {
  if (!statements.length) return;
  const client = await connect(binding);
  try {
    await transaction(
      client,
      () => client.query('SELECT 1'),
      () => statements.map((s) => client.query(s.sql, s.params)),
    );
  } catch (error) {
    throw postgresError(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
