import type { CompiledStep } from '../../runtime/component/step.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { compileNamedSql, writtenTables, type NamedStatement } from '../../runtime/language/sql.ts';
import { D1_MAX_BOUND_PARAMETERS as MAX_BOUND_PARAMETERS } from '../../runtime/lib/chunk.ts';
import { compileValue, type ValueFn } from '../../runtime/language/values.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';

export interface CompiledSqlStep extends CompiledStep {
  kind: 'sql';
  sql: string;
  statement: NamedStatement;
  /** Value functions in `?N` (or `$N`) order. */
  values: ValueFn[];
  /** The external store it writes (Postgres); absent for the event log's D1. */
  store?: string;
}

/** D1 binds strings, numbers, null and booleans; objects and arrays go in as JSON text (Postgres keeps booleans). */
function toSqlValue(value: unknown, booleans = false): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return booleans ? value : value ? 1 : 0;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** An SQL statement with `:named` parameters, each taken from the event by a value expression. */
export const sqlStep = defineComponent({
  kind: 'step',
  name: 'sql',
  title: 'SqlStep',
  description:
    'Runs one SQL statement against its store (D1 by default, or a Postgres store); all sql steps of a message commit together.',
  spec: {
    sql: field.string({ minLength: 1 }).describe('The statement, with `:name` parameters.'),
    params: field
      .record(field.ref<Value>('Value'), { propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } })
      .default({})
      .describe('A value for each `:name` in the statement.'),
    store: field
      .string({ pattern: '^[a-z][a-z0-9_-]*$' })
      .optional()
      .describe("The store it writes (from `stores:`), over its handler's; default d1."),
  },
  example: {
    sql: 'UPDATE orders SET status = :status WHERE id = :id',
    params: { status: { const: 'paid' }, id: 'data.object.metadata.order_id' },
  },
  // validate prepares the statement against the store's migrations (a store whose SQL the CLI cannot prepare is skipped).
  check(options, ctx) {
    const error = ctx.prepare?.(options.sql, options.store ?? ctx.store);
    return error ? [{ path: ['sql'], message: error, severity: 'error' }] : [];
  },
  create(options, ctx): CompiledSqlStep {
    const storeName = options.store ?? ctx.store;
    const store = storeName === undefined ? undefined : ctx.stores.get(storeName);
    if (storeName !== undefined && !store)
      throw new Error(
        `store ${JSON.stringify(storeName)} is not declared under stores: (known: ${[...ctx.stores.keys()].join(', ')})`,
      );
    const postgres = store?.type === 'postgres';
    const statement = compileNamedSql(options.sql, postgres ? '$' : '?');
    const params = options.params;
    const declared = Object.keys(params);
    const missing = statement.names.filter((n) => !(n in params));
    const unused = declared.filter((n) => !statement.names.includes(n));
    const problems = [
      ...(missing.length ? [`:${missing.join(', :')} used in sql but not in params`] : []),
      ...(unused.length ? [`params ${unused.join(', ')} not used in sql`] : []),
    ];
    if (!postgres && statement.names.length > MAX_BOUND_PARAMETERS)
      problems.push(
        `D1 binds at most ${MAX_BOUND_PARAMETERS} parameters per statement (this one has ${statement.names.length})`,
      );
    if (problems.length) throw new Error(problems.join('; '));
    const values = statement.names.map((n) => compileValue(params[n]!, { allowEnvelope: true }));
    if (!postgres) {
      let writes: string[] | undefined;
      return {
        kind: 'sql',
        sql: options.sql,
        statement,
        values,
        inRequest: true,
        // Read by reconcile and backfill only: worked out when first asked, not on every compile.
        get writes() {
          return (writes ??= writtenTables(options.sql));
        },
        run: (ctx) => ({
          statements: [{ sql: statement.text, params: values.map((value) => toSqlValue(value(ctx.values))) }],
        }),
      };
    }
    const name = store!.name;
    return {
      kind: 'sql',
      sql: options.sql,
      statement,
      values,
      store: name,
      run: (ctx) => ({
        statements: [
          { sql: statement.text, params: values.map((value) => toSqlValue(value(ctx.values), true)), store: name },
        ],
      }),
    };
  },
});
