/**
 * The `commands:` section's schema: what the application may ask switchyard to do, each with a JSON Schema for its
 * input, who may call it, and the same steps handlers run.
 */
import { secretRefsSchema } from '../../component/context.ts';

const closedObject = (title: string, properties: Record<string, unknown>, required: string[], description: string) => ({
  type: 'object',
  title,
  description,
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});

/** One command. `NAME_PATTERN` names it (the map key); `Step`, `RetryPolicy`, `Value` and `Duration` are shared. */
export const commandSchema = closedObject(
  'Command',
  {
    description: { type: 'string' },
    input: {
      type: 'object',
      tsType: 'Record<string, unknown>',
      description:
        'A JSON Schema (draft-07) for the input, compiled by `switchyard build` and checked at the edge (422 with the failing path). Steps read the input as handler steps read a payload.',
    },
    auth: closedObject(
      'CommandAuth',
      {
        service_token: { ...secretRefsSchema, description: 'Secret(s) holding a service token the caller sends as `Authorization: Bearer <token>` (several to rotate).' },
        provider: { type: 'string', description: "An auth provider from `auth:` whose users' tokens may call (with `roles` / `claims`)." },
        roles: { type: 'array', items: { type: 'string' }, minItems: 1, description: "Any one of these roles (a provider's token only)." },
        roles_claim: { type: 'string', description: 'The claim holding roles (default roles).' },
        claims: {
          type: 'object',
          additionalProperties: {
            anyOf: [{ type: ['string', 'number', 'boolean'] }, closedObject('CommandClaimFromEnv', { env: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' } }, ['env'], 'The value of a Worker variable.')],
          },
          description: 'Claims a user token must carry with exactly these values.',
        },
      },
      [],
      'Who may call over HTTP: a service token, and/or users of an auth provider (with roles). Over a Service Binding the binding itself is the authorisation.',
    ),
    rpc: { type: 'boolean', description: 'Callable over a Service Binding (default true); false: HTTP only.' },
    queue: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$', description: 'The queue the command goes through (and its effects retry through).' },
    apply: {
      enum: ['auto', 'queue'],
      description:
        "auto (default): a call whose steps all commit in the event log's D1 (SQL, actions) is applied in the request and answered 200, its effects sent right after the answer; queue: always through the queue (202). A `sync:` command runs its action in the request either way.",
    },
    retry: { $ref: '#/definitions/RetryPolicy' },
    steps: { type: 'array', items: { $ref: '#/definitions/Step' }, minItems: 1 },
    let: { $ref: '#/definitions/Let' },
    count: closedObject(
      'CommandCount',
      {
        limit: { type: 'string', description: 'A limit from `limits:` with `counts: operations`.' },
        n: { $ref: '#/definitions/Value', description: 'How many operations the call counts: a value read from the input (default 1); a whole number from 1 to the limit.' },
      },
      ['limit'],
      "Instead of steps: the call counts the application's own operations (an OpenAI request, a Cloudinary transformation) against a limit, in one D1 batch, and answers whether they fit (`allowed`, `used`, `max`, `remaining`, `period_end`).",
    ),
    sync: closedObject(
      'CommandSync',
      {
        result: {
          type: 'object',
          minProperties: 1,
          additionalProperties: { $ref: '#/definitions/Value' },
          description: "The answer: each field a value read from the action's response (the JSON body of an http action).",
        },
        cache: { $ref: '#/definitions/Duration', description: 'How long a result is kept in KV and served to a repeat of its Idempotency-Key (default 1h; 0s keeps none: each call costs a KV write, and the free plan allows 1,000 a day).' },
      },
      ['result'],
      'Synchronous: the one action step runs in the request (the Idempotency-Key goes to the provider) and the mapped result is the answer.',
    ),
  },
  ['input', 'auth'],
  'Something the application may ask for: POST /v1/commands/<name> or `command()` over a Service Binding, applied once per Idempotency-Key.',
);
