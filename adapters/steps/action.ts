import type { CompiledLimit, CompiledStep, StepAdapter } from '../../runtime/component/step.ts';
import type { CompiledAction } from '../../runtime/component/action.ts';
import { closed } from '../../runtime/manifest/schema.ts';
import type { RetryPolicyInput } from '../../runtime/consumer/retry.ts';

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
      if (limit.counts !== 'sends') throw new Error(`limit ${name} counts ${limit.counts}, not sends: name it on a route`);
      return limit;
    });
    const action = adapter.create(rest, { templates: ctx.templates });
    const perRecipient = limits.find((l) => l.perRecipient);
    if (perRecipient && !action.recipient) throw new Error(`limit ${perRecipient.name} counts per recipient, and a ${type} send has no single recipient`);
    const keyOf = (limit: CompiledLimit, stepCtx: Parameters<CompiledStep['run']>[0], payload: unknown) =>
      limit.perRecipient ? (action.recipient!(payload) ?? '') : limit.per ? String(limit.per(stepCtx.values) ?? '') : '*';
    return {
      kind: 'action',
      notifyAction: action,
      ...(retry ? { retry } : {}),
      run: (stepCtx) => {
        const payload = action.prepare(stepCtx);
        return { actions: [{ action, payload, limits: limits.map((limit) => ({ limit, key: keyOf(limit, stepCtx, payload) })) }] };
      },
    };
  },
};
