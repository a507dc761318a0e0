/**
 * The http action's body fields and query parameters: values from the event, or `{ secret: NAME }` read only when
 * the request is sent (so only the name is ever stored; runtime/lib/redact.ts scrubs them from what comes back).
 */
import { secretRefSchema, type StepContext } from '../../runtime/component/context.ts';
import { compileValueMap } from './message.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';

/** A field whose value is a secret (`{ secret: NAME }`), e.g. Paddle Classic's `vendor_auth_code`. */
const secretValueSchema = {
  type: 'object',
  title: 'SecretValue',
  additionalProperties: false,
  required: ['secret'],
  properties: { secret: secretRefSchema },
  description:
    'The value of a secret, read when the request is sent; never stored with the effect, logged or shown in an error.',
} as const;
export const fieldSchema = { anyOf: [{ $ref: '#/definitions/Value' }, secretValueSchema] } as const;

/** A body field or query parameter: a value from the event, or a secret named for send time. */
export type BodyField = { secret: string } | Value;
const isSecret = (v: BodyField): v is { secret: string } =>
  typeof v === 'object' &&
  v !== null &&
  Object.keys(v).length === 1 &&
  typeof (v as { secret?: unknown }).secret === 'string';

/** Splits a field map into values compiled from the event and secrets named for send time. */
export function compileFields(map: Readonly<Record<string, BodyField>> | undefined): {
  values: (ctx: StepContext) => Record<string, unknown>;
  secrets: [string, string][];
} {
  const entries = Object.entries(map ?? {});
  const secrets = entries.flatMap(([k, v]) => (isSecret(v) ? [[k, v.secret] as [string, string]] : []));
  const values = entries.flatMap(([k, v]): [string, Value][] => (isSecret(v) ? [] : [[k, v]]));
  return { values: compileValueMap(Object.fromEntries(values)), secrets };
}
