import type { CompiledLimit, CompiledStep, StepAdapter } from '../../runtime/adapter.ts';
import type { CompiledAction } from '../../runtime/actions.ts';
import { closed } from '../../runtime/manifest/schema.ts';
import type { RetryPolicyInput } from '../../runtime/retry.ts';

interface ActionOptions {
  action: string;
  limits?: string[];
  retry?: RetryPolicyInput;
  [option: string]: unknown;
}

export interface CompiledActionStep extends CompiledStep {
  kind: 'action';
  /** The action a limit's `notify` sends. */
  notifyAction: CompiledAction;
  /** The step's own retry policy fragment, layered over its integration's when effects are delivered. */
  retry?: RetryPolicyInput;
}

/**
 * An outbound action (`- action: resend`, `- action: twilio`, …). The step only prepares the item while the
 * message's steps run; the consumer sends it with the batch's others, under the send ledger and the limits.
 */
export const actionStep: StepAdapter<ActionOptions, CompiledActionStep> = {
  key: 'action',
  title: 'ActionStep',
  description: 'Sends an email, SMS, analytics event or HTTP request; `action` picks the adapter.',
  options: { properties: {}, required: ['action'] },
  example: { action: 'resend', from: 'Acme <hello@acme.dev>', to: 'data.email', subject: 'Hi', text: 'Hello!', api_key: 'RESEND_API_KEY' },
  schema(registry) {
    return {
      title: 'ActionStep',
      description: 'An outbound action; `action` picks the adapter.',
      type: 'object',
      required: ['action'],
      discriminator: { propertyName: 'action' },
      oneOf: [...registry.actions.values()].map((a) =>
        closed(
          a.title,
          {
            action: { const: a.type, description: a.description },
            limits: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'Limits (from `limits:`) this send counts against.' },
            retry: { $ref: '#/definitions/RetryPolicy', description: "This effect's retry policy, over the integration's." },
            description: { type: 'string' },
            ...a.options.properties,
          },
          ['action', ...(a.options.required ?? [])],
          a.description,
        ),
      ),
    };
  },
  compile(options, ctx) {
    const { action: type, limits: limitNames = [], retry, ...rest } = options;
    const adapter = ctx.registry.actions.get(type);
    if (!adapter) throw new Error(`unknown action ${JSON.stringify(type)}; known: ${[...ctx.registry.actions.keys()].join(', ')}`);
    const limits: CompiledLimit[] = limitNames.map((name) => {
      const limit = ctx.limits.get(name);
      if (!limit) throw new Error(`limit ${JSON.stringify(name)} is not declared under limits:`);
      return limit;
    });
    const action = adapter.create(rest, { templates: ctx.templates });
    return {
      kind: 'action',
      notifyAction: action,
      ...(retry ? { retry } : {}),
      run: (stepCtx) => ({
        actions: [
          {
            action,
            payload: action.prepare(stepCtx),
            limits: limits.map((limit) => ({ limit, key: limit.per ? String(limit.per(stepCtx.values) ?? '') : '*' })),
          },
        ],
      }),
    };
  },
};
