/**
 * A D1 binding that adds up what every statement run through it cost, from D1's own exact counters
 * (`meta.rows_written`, `meta.rows_read`): the units the free plan bills in.
 */
export interface Meter {
  db: D1Database;
  written: number;
  read: number;
  /** Each statement's SQL with what it cost, in order (to say which one went over a budget). */
  statements: { sql: string; written: number; read: number }[];
  reset(): void;
}

export function metered(db: D1Database): Meter {
  const meter = { written: 0, read: 0, statements: [] } as unknown as Meter;
  const targets = new WeakMap<object, D1PreparedStatement>();
  const sqlOf = new WeakMap<object, string>();
  const add = (r: { meta?: { rows_written?: number; rows_read?: number } }, sql = '?') => {
    meter.written += r.meta?.rows_written ?? 0;
    meter.read += r.meta?.rows_read ?? 0;
    meter.statements.push({ sql: sql.replace(/\s+/g, ' ').slice(0, 160), written: r.meta?.rows_written ?? 0, read: r.meta?.rows_read ?? 0 });
  };
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(t, p) {
        if (p === 'bind') return (...args: unknown[]) => wrap(t.bind(...args), sql);
        if (p === 'run' || p === 'all') return async () => {
          const r = await t.all();
          add(r, sql);
          return r;
        };
        if (p === 'first') return async (column?: string) => {
          const r = await t.all<Record<string, unknown>>();
          add(r, sql);
          const row = r.results[0] ?? null;
          return column ? (row?.[column] ?? null) : row;
        };
        const value = Reflect.get(t, p, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
    targets.set(proxy, statement);
    sqlOf.set(proxy, sql);
    return proxy;
  };
  meter.db = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === 'batch') return async (statements: D1PreparedStatement[]) => {
        const results = await target.batch(statements.map((s) => targets.get(s) ?? s));
        results.forEach((r, i) => add(r, sqlOf.get(statements[i]!)));
        return results;
      };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  meter.reset = () => {
    meter.written = 0;
    meter.read = 0;
    meter.statements = [];
  };
  return meter;
}
