/** `:named` parameters in manifest SQL, as the author writes them and as D1 (`?N`) and Postgres (`$N`) receive them. */
import { describe, expect, it } from 'vitest';
import { compileNamedSql } from './sql.ts';

describe('compileNamedSql (D1)', () => {
  it('numbers parameters ?1, ?2 in order of first use, and reuses the number of a repeated name', () => {
    expect(
      compileNamedSql('UPDATE orders SET status = :status, seen = :at WHERE id = :id AND status <> :status'),
    ).toEqual({
      text: 'UPDATE orders SET status = ?1, seen = ?2 WHERE id = ?3 AND status <> ?1',
      names: ['status', 'at', 'id'],
    });
  });

  it('leaves SQL without parameters as it is', () => {
    expect(compileNamedSql('DELETE FROM sessions')).toEqual({ text: 'DELETE FROM sessions', names: [] });
  });

  it('copies string literals, quoted identifiers and comments untouched, even when they contain :words or ?', () => {
    const sql = `SELECT ':not_a_param', 'it''s :x?', "col:y", \`b:z\` -- :comment ?\nFROM t /* :block ? */ WHERE a = :a`;
    const { text, names } = compileNamedSql(sql);
    expect(names).toEqual(['a']);
    expect(text).toBe(sql.replace('WHERE a = :a', 'WHERE a = ?1'));
  });

  it('does not read a cast (::text) as a parameter, and accepts underscores and digits in names', () => {
    expect(compileNamedSql('SELECT :value::text, :user_2')).toEqual({
      text: 'SELECT ?1::text, ?2',
      names: ['value', 'user_2'],
    });
  });

  it('refuses positional and other binding styles, naming the fix', () => {
    for (const sql of ['SELECT * FROM t WHERE id = ?', 'SELECT * FROM t WHERE id = ?1', 'SELECT @id', 'SELECT $id']) {
      expect(() => compileNamedSql(sql)).toThrow('use :named parameters only (found a ? / @ / $ parameter)');
    }
  });

  it('refuses a quote left open, saying which', () => {
    expect(() => compileNamedSql("SELECT 'open")).toThrow("unterminated ' quote in SQL");
    expect(() => compileNamedSql('SELECT "open')).toThrow('unterminated " quote in SQL');
    expect(() => compileNamedSql('SELECT `open')).toThrow('unterminated ` quote in SQL');
  });
});

describe('compileNamedSql (Postgres)', () => {
  it('numbers parameters $1, $2 and keeps casts and the jsonb ? operator', () => {
    expect(compileNamedSql("SELECT :doc::jsonb ? 'k', :id, :doc", '$')).toEqual({
      text: "SELECT $1::jsonb ? 'k', $2, $1",
      names: ['doc', 'id'],
    });
  });

  it("copies E'..' escape strings and $tag$..$tag$ bodies untouched", () => {
    const sql = "SELECT E'a\\':x', $fn$ :inside 'x $fn$, $$ :also $$, :real";
    expect(compileNamedSql(sql, '$')).toEqual({ text: sql.replace(':real', '$1'), names: ['real'] });
  });

  it('refuses a positional $N parameter and an unterminated dollar quote', () => {
    expect(() => compileNamedSql('SELECT $1', '$')).toThrow('use :named parameters only (found a $N parameter)');
    expect(() => compileNamedSql('SELECT $body$ never closed', '$')).toThrow('unterminated $body$ quote in SQL');
  });
});
