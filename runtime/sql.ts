/**
 * `:named` parameters in manifest SQL. D1 binds positional `?N` parameters only, so each statement is
 * rewritten once at compile time and its parameter names are kept in order.
 */
export interface NamedStatement {
  /** The SQL with `:name` replaced by `?N`. */
  text: string;
  /** Parameter names in `?N` order (index 0 is `?1`). */
  names: string[];
}

/** Rewrites `:name` parameters to `?N`, skipping string literals, quoted identifiers and comments. */
export function compileNamedSql(sql: string): NamedStatement {
  const names: string[] = [];
  let text = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = skipQuoted(sql, i, ch);
      text += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      text += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      text += sql.slice(i, stop);
      i = stop;
    } else if (ch === ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '') && sql[i - 1] !== ':') {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      text += `?${index + 1}`;
      i = j;
    } else if (ch === '?' || (ch === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) || (ch === '$' && /[A-Za-z_]/.test(sql[i + 1] ?? ''))) {
      throw new Error('use :named parameters only (found a ? / @ / $ parameter)');
    } else {
      text += ch;
      i++;
    }
  }
  return { text, names };
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  throw new Error(`unterminated ${quote} quote in SQL`);
}
