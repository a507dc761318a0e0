/**
 * Where projections go: the manifest's `stores:`, compiled. The event log's own D1 database is always there as `d1`
 * (the default), so a projection into it commits in one transaction with its applied-marker. Any other store is
 * an external projection store (Postgres through Hyperdrive) that keeps its own applied-marker in the same
 * transaction as the projection, and is written before the event log records the outcome.
 */
import type { Store } from './types.gen.ts';
import { PermanentError, type Statement } from '../component/context.ts';
import type { CompiledStore } from '../component/context.ts';

/** The store a handler writes when it names none: the event log's D1 database. */
export const DEFAULT_STORE = 'd1';

/** The event log's D1 binding (the runtime reads and writes `env.DB`). */
export const EVENT_LOG_BINDING = 'DB';

/** How a statement's parameters are written for a store's SQL dialect. */
export type Placeholders = '?' | '$';

export const placeholdersOf = (store: CompiledStore): Placeholders => (store.type === 'postgres' ? '$' : '?');

/**
 * Compiles `stores:`. A declared d1 store must be the event log's database: a second D1 database could not commit
 * a projection atomically with its applied-marker, and is refused rather than left at-least-once.
 */
export function compileStores(
  spec: Record<string, Store> | undefined,
  problem: (path: string[], message: string) => void,
): Map<string, CompiledStore> {
  const stores = new Map<string, CompiledStore>([
    [DEFAULT_STORE, { name: DEFAULT_STORE, type: 'd1', binding: EVENT_LOG_BINDING }],
  ]);
  for (const [name, s] of Object.entries(spec ?? {})) {
    if (s.type === 'd1' && s.binding !== EVENT_LOG_BINDING) {
      problem(
        ['stores', name, 'binding'],
        `a d1 store is the event log's database (binding ${EVENT_LOG_BINDING}): its projections commit with their applied-marker; use a postgres store for another database`,
      );
      continue;
    }
    stores.set(name, { name, type: s.type, binding: s.binding });
  }
  return stores;
}

/** A statement bound for an external store (undefined `store` means the event log's D1). */
export const isExternal = (statement: Statement): boolean =>
  statement.store !== undefined && statement.store !== DEFAULT_STORE;

/**
 * Splits one event's statements into the event log's D1 ones and those of one external store. Throws when they go
 * to more than one database: no transaction spans two, so such an event could be half applied.
 */
export function splitByStore(statements: readonly Statement[]): {
  d1: Statement[];
  external?: { store: string; statements: Statement[] };
} {
  const d1 = statements.filter((s) => !isExternal(s));
  const others = statements.filter(isExternal);
  if (!others.length) return { d1 };
  const names = [...new Set(others.map((s) => s.store!))];
  if (names.length > 1 || d1.length) {
    throw new MixedStoresError(
      `its SQL goes to ${[...(d1.length ? [DEFAULT_STORE] : []), ...names].join(' and ')}: one event's SQL must go to one store, as no transaction spans two databases`,
    );
  }
  return { d1, external: { store: names[0]!, statements: others } };
}

/** An event whose handlers write more than one store: it cannot be applied atomically, so it is never applied. */
export class MixedStoresError extends PermanentError {
  override name = 'MixedStoresError';
}
