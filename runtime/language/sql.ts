/**
 * `:named` parameters in manifest SQL. D1 binds positional `?N` parameters and Postgres `$N`, so each statement
 * is rewritten once at compile time, for its store, and its parameter names are kept in order.
 */
export interface NamedStatement {
  /** The SQL with `:name` replaced by `?N`. */
  text: string;
  /** Parameter names in `?N` order (index 0 is `?1`). */
  names: string[];
}

// Literals and comments are copied as they are; `:name` outside them is a parameter; anything else that
// binds (`?`, `@x`, `$x`) is refused, and a quote left open is an error.
const TOKENS =
  /('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|(?<!:):([A-Za-z_][A-Za-z0-9_]*)|(\?|[@$][A-Za-z_])|(['"`])/g;

// Postgres: also E'..' escape strings and $tag$..$tag$ dollar quoting; `?` is a jsonb operator there and `::` a cast,
// so only a positional `$N` is refused.
const PG_TOKENS =
  /([Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)|(?<!:):([A-Za-z_][A-Za-z0-9_]*)|(\$[0-9]+)|(['"])/g;

/**
 * Rewrites `:name` parameters to `?N` (D1, the default) or `$N` (Postgres), skipping string literals, quoted
 * identifiers and comments.
 */
export function compileNamedSql(sql: string, placeholder: '?' | '$' = '?'): NamedStatement {
  const names: string[] = [];
  const tokens = placeholder === '$' ? PG_TOKENS : TOKENS;
  let dollarQuote: string | undefined;
  let text = '';
  let last = 0;
  for (const m of sql.matchAll(tokens)) {
    const [match, literal, name, other, open] = m;
    const at = m.index!;
    if (dollarQuote !== undefined) {
      // Inside $tag$..$tag$ everything is text, up to the same tag.
      if (literal === dollarQuote) dollarQuote = undefined;
      continue;
    }
    text += sql.slice(last, at);
    last = at + match.length;
    if (literal !== undefined) {
      if (placeholder === '$' && literal.startsWith('$')) dollarQuote = literal;
      text += literal;
    } else if (name !== undefined) {
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      text += `${placeholder}${index + 1}`;
    } else if (other !== undefined) {
      throw new Error(
        placeholder === '$'
          ? 'use :named parameters only (found a $N parameter)'
          : 'use :named parameters only (found a ? / @ / $ parameter)',
      );
    } else throw new Error(`unterminated ${open} quote in SQL`);
  }
  if (dollarQuote !== undefined) throw new Error(`unterminated ${dollarQuote} quote in SQL`);
  // Text inside a dollar quote was skipped token by token: copy it whole.
  return { text: text + sql.slice(last), names };
}

/** The tables a statement inserts into or updates (`INSERT INTO t`, `UPDATE t`), lower-case. */
export function writtenTables(sql: string): string[] {
  return [
    ...new Set(
      [...sql.matchAll(/\b(?:INTO|UPDATE)\s+(?!SET\b)["`]?([A-Za-z_][A-Za-z0-9_]*)/gi)].map((m) => m[1]!.toLowerCase()),
    ),
  ];
}
