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

// Literals and comments are copied as they are; `:name` outside them is a parameter; anything else that
// binds (`?`, `@x`, `$x`) is refused, and a quote left open is an error.
const TOKENS = /('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|(?<!:):([A-Za-z_][A-Za-z0-9_]*)|(\?|[@$][A-Za-z_])|(['"`])/g;

/** Rewrites `:name` parameters to `?N`, skipping string literals, quoted identifiers and comments. */
export function compileNamedSql(sql: string): NamedStatement {
  const names: string[] = [];
  const text = sql.replace(TOKENS, (match, literal?: string, name?: string, other?: string, open?: string) => {
    if (literal !== undefined) return literal;
    if (name !== undefined) {
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      return `?${index + 1}`;
    }
    if (other !== undefined) throw new Error('use :named parameters only (found a ? / @ / $ parameter)');
    throw new Error(`unterminated ${open} quote in SQL`);
  });
  return { text, names };
}

/** D1 binds at most this many parameters in one statement. */
export const D1_MAX_BOUND_PARAMETERS = 100;

/** Splits a list into slices of at most `size` (a whole number), for statements within D1's parameter limit. */
export const chunk = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
