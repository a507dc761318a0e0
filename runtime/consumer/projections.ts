/**
 * The projection-store seam: SQL bound for a store other than the event log's D1 goes through here. The consumer
 * commits such a projection in its own store first (with that store's applied-marker, in one transaction) and
 * records the outcome in the event log after; rebuild runs it there too. What crosses the two databases is only
 * the outcome: the Postgres commit decides whether the event was applied, the D1 event log says so afterwards.
 */
import type { Statement } from '../component/context.ts';
import { eventVersion, type Envelope, type RuntimeEnv } from '../lib/envelope.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import { keyOf, type EventKey } from '../store/events.ts';
import {
  applyToPostgres,
  runInPostgres,
  type PostgresBinding,
  type PostgresConnect,
  type PostgresOutcome,
} from '../store/postgres.ts';

/** One event's statements for one external store. */
export interface ExternalProjection {
  store: string;
  statements: Statement[];
}

/** The binding of an external store, checked: a missing Hyperdrive binding is a retryable configuration error. */
function bindingOf(compiled: CompiledManifest, env: RuntimeEnv, name: string): PostgresBinding {
  const store = compiled.stores.get(name);
  if (store?.type !== 'postgres') throw new Error(`store ${name} is not a postgres store of this manifest`);
  const binding = env[store.binding] as Partial<PostgresBinding> | undefined;
  if (!binding || typeof binding.connectionString !== 'string')
    throw new Error(`store ${name}: binding ${store.binding} is not bound (a [[hyperdrive]] binding in wrangler.toml)`);
  return binding as PostgresBinding;
}

/**
 * Applies each event's external projection in its store, one transaction per store for the batch (one per event
 * if that fails). Returns per event (by keyOf): `applied`, `duplicate` (its marker was there: applied before), or
 * the error.
 */
export async function projectExternal(
  compiled: CompiledManifest,
  env: RuntimeEnv,
  items: readonly { key: EventKey; envelope: Envelope; projection: ExternalProjection }[],
  connect?: PostgresConnect,
): Promise<Map<string, PostgresOutcome>> {
  const outcomes = new Map<string, PostgresOutcome>();
  const byStore = new Map<string, (typeof items)[number][]>();
  for (const item of items) byStore.set(item.projection.store, [...(byStore.get(item.projection.store) ?? []), item]);
  for (const [name, list] of byStore) {
    let binding: PostgresBinding;
    try {
      binding = bindingOf(compiled, env, name);
    } catch (error) {
      for (const item of list) outcomes.set(keyOf(item.key), error as Error);
      continue;
    }
    const applied = await applyToPostgres(
      binding,
      list.map((item) => ({
        key: item.key,
        version: eventVersion(item.envelope),
        statements: item.projection.statements,
      })),
      connect,
    );
    for (const [key, outcome] of applied) outcomes.set(key, outcome);
  }
  return outcomes;
}

/** Runs statements in their external stores, one transaction per store (rebuild). */
export async function runExternal(
  compiled: CompiledManifest,
  env: RuntimeEnv,
  statements: readonly Statement[],
  connect?: PostgresConnect,
): Promise<void> {
  const byStore = new Map<string, Statement[]>();
  for (const s of statements) byStore.set(s.store!, [...(byStore.get(s.store!) ?? []), s]);
  for (const [name, list] of byStore) await runInPostgres(bindingOf(compiled, env, name), list, connect);
}
