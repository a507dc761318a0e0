/**
 * A command's input check at the edge. The JSON Schema is compiled to code by `switchyard build` (Ajv standalone:
 * workerd forbids compiling it at run time) and the Worker looks the function up by environment and command.
 */

/** What an Ajv validate function reports (the fields used here). */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** An Ajv (standalone) validate function. */
export interface ValidateFunction {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

/** One reason an input was refused: where (a JSON Pointer into the input, `""` for the whole of it) and why. */
export interface InputProblem {
  path: string;
  message: string;
}

/** Checks an input; an empty list when it is valid. */
export type InputValidator = (input: unknown) => InputProblem[];

/** Compiled validate functions by environment, then command (the module `switchyard build` writes). */
export type BuiltValidators = Record<string, Record<string, ValidateFunction>>;

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Ajv's errors as problems a caller can act on: a missing or unexpected property is reported at that property's
 * path (Ajv puts it at the parent's), and each problem once.
 */
export function inputProblems(errors: readonly SchemaError[]): InputProblem[] {
  const seen = new Set<string>();
  const problems: InputProblem[] = [];
  for (const e of errors) {
    let path = e.instancePath;
    let message = e.message ?? e.keyword;
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      path = `${path}/${escapePointer(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path = `${path}/${escapePointer(e.params.additionalProperty)}`;
      message = 'is not allowed';
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path, message });
  }
  return problems;
}

/** A validator from a compiled validate function. */
export function inputValidator(validate: ValidateFunction): InputValidator {
  return (input) => (validate(input) ? [] : inputProblems(validate.errors ?? []));
}

/**
 * The two run-time helpers Ajv's standalone code calls for JSON Schema keywords (`minLength`/`maxLength`, and
 * `const`/`enum`/`uniqueItems` on objects), so the generated module imports them from here, not from Ajv.
 */
export const schemaHelpers = {
  /** A string's length in code points, as JSON Schema counts it (a surrogate pair is one character). */
  ucs2length(text: string): number {
    let length = 0;
    for (let i = 0; i < text.length; i++, length++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    }
    return length;
  },
  /** Deep equality of JSON values. */
  equal(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b))
      return Number.isNaN(a) && Number.isNaN(b);
    const ka = Object.keys(a as object);
    if (ka.length !== Object.keys(b as object).length) return false;
    return ka.every(
      (k) =>
        Object.hasOwn(b, k) &&
        schemaHelpers.equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    );
  },
};
