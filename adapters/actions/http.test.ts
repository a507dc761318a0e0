/**
 * The http action's options keep their meaning now that defaults live in the spec: a `body_encoding` written without
 * a `body` encodes nothing, and was refused before issue 16 whichever encoding it named (json included).
 */
import { describe, expect, it } from 'vitest';
import { build } from '../../runtime/component/define.ts';
import { httpAction } from './http.ts';

const context = { templates: new Map() };
const base = { action: 'http', url: 'https://api.example.com/hook' } as const;

describe('http action options', () => {
  it('refuses body_encoding without a body, json as well as form', () => {
    expect(() => build(httpAction, { ...base, body_encoding: 'form' }, context)).toThrow(/body_encoding needs a body/);
    expect(() => build(httpAction, { ...base, body_encoding: 'json' }, context)).toThrow(/body_encoding needs a body/);
    expect(() => build(httpAction, { ...base, method: 'GET', body_encoding: 'json' }, context)).toThrow(
      /body_encoding needs a body/,
    );
  });

  it('builds a body with the default encoding, and a GET with neither', () => {
    expect(() => build(httpAction, { ...base, body: { a: { const: 1 } } }, context)).not.toThrow();
    expect(() =>
      build(httpAction, { ...base, body: { a: { const: 1 } }, body_encoding: 'form' }, context),
    ).not.toThrow();
    expect(() => build(httpAction, { ...base, method: 'GET' }, context)).not.toThrow();
  });
});
