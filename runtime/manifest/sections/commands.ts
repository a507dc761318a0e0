/**
 * `commands:`: what the application may ask switchyard to do, each with a JSON Schema for its input, who may call
 * it, and the same steps handlers run (compiled by edge/commands/compile.ts). Pure data.
 */
import { field } from '../../component/spec.ts';
import { BINDING_PATTERN, NAME_PATTERN } from './names.ts';

const claimFromEnv = field
  .object({ env: field.string({ pattern: BINDING_PATTERN }) })
  .title('CommandClaimFromEnv')
  .describe('The value of a Worker variable.');

export const commandAuthSpec = {
  service_token: field
    .secrets()
    .describe(
      'Secret(s) holding a service token the caller sends as `Authorization: Bearer <token>` (several to rotate).',
    )
    .optional(),
  provider: field
    .string()
    .describe("An auth provider from `auth:` whose users' tokens may call (with `roles` / `claims`).")
    .optional(),
  roles: field
    .list(field.string(), { minItems: 1 })
    .describe("Any one of these roles (a provider's token only).")
    .optional(),
  // Not defaulted: a roles_claim given without a provider is a problem compile reports (edge/auth.ts reads `roles`).
  roles_claim: field.string().describe('The claim holding roles (roles when not given).').optional(),
  claims: field
    .record(field.anyOf([{ type: ['string', 'number', 'boolean'] }, claimFromEnv]))
    .describe('Claims a user token must carry with exactly these values.')
    .optional(),
};

export const commandCountSpec = {
  limit: field.string().describe('A limit from `limits:` with `counts: operations`.'),
  n: field
    .ref('Value')
    .describe(
      'How many operations the call counts: a value read from the input (1 when not given); a whole number from 1 to the limit.',
    )
    .optional(),
};

export const commandSyncSpec = {
  result: field
    .record(field.ref('Value'), { minProperties: 1 })
    .describe("The answer: each field a value read from the action's response (the JSON body of an http action)."),
  cache: field
    .ref('Duration')
    .describe(
      'How long a result is kept in KV and served to a repeat of its Idempotency-Key (0s keeps none: each call costs a KV write, and the free plan allows 1,000 a day).',
    )
    .default('1h'),
};

export const commandSpec = {
  description: field.string().optional(),
  input: field
    .schema<Record<string, unknown>>({ type: 'object', tsType: 'Record<string, unknown>' })
    .describe(
      'A JSON Schema (draft-07) for the input, compiled by `switchyard build` and checked at the edge (422 with the failing path). Steps read the input as handler steps read a payload.',
    ),
  auth: field
    .object(commandAuthSpec)
    .title('CommandAuth')
    .describe(
      'Who may call over HTTP: a service token, and/or users of an auth provider (with roles). Over a Service Binding the binding itself is the authorisation.',
    ),
  rpc: field.boolean().describe('Callable over a Service Binding; false: HTTP only.').default(true),
  queue: field
    .string({ pattern: NAME_PATTERN })
    .describe('The queue the command goes through (and its effects retry through).')
    .optional(),
  apply: field
    .enum(['auto', 'queue'])
    .describe(
      "auto: a call whose steps all commit in the event log's D1 (SQL, actions) is applied in the request and answered 200, its effects sent right after the answer; queue: always through the queue (202). A `sync:` command runs its action in the request either way.",
    )
    .default('auto'),
  retry: field.ref('RetryPolicy').optional(),
  steps: field.list(field.ref('Step'), { minItems: 1 }).optional(),
  let: field.ref('Let').optional(),
  count: field
    .object(commandCountSpec)
    .title('CommandCount')
    .describe(
      "Instead of steps: the call counts the application's own operations (an OpenAI request, a Cloudinary transformation) against a limit, in one D1 batch, and answers whether they fit (`allowed`, `used`, `max`, `remaining`, `period_end`).",
    )
    .optional(),
  sync: field
    .object(commandSyncSpec)
    .title('CommandSync')
    .describe(
      'Synchronous: the one action step runs in the request (the Idempotency-Key goes to the provider) and the mapped result is the answer.',
    )
    .optional(),
};

/** The Command definition. */
export const command = field
  .object(commandSpec)
  .title('Command')
  .describe(
    'Something the application may ask for: POST /v1/commands/<name> or `command()` over a Service Binding, applied once per Idempotency-Key.',
  );
