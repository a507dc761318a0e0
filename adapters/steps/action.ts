import type { CompiledLimit, CompiledStep } from '../../runtime/component/step.ts';
import type { CompiledAction } from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import type { RetryPolicyInput } from '../../runtime/manifest/retry.ts';

export interface CompiledActionStep extends CompiledStep {
  kind: 'action';
  /** The action it sends (what a limit's or an alert's `notify` sends), and its own retry policy fragment. */
  effect: { action: CompiledAction; retry?: RetryPolicyInput };
}

/** The keys the step has around an action's own options. */
const spec = {
  action: field.string().describe('The action component (resend, twilio, http, …).'),
  limits: field
    .list(field.string())
    .with({ uniqueItems: true })
    .default([])
    .describe('Limits (from `limits:`) this send counts against.'),
  retry: field
    .ref<RetryPolicyInput>('RetryPolicy')
    .optional()
    .describe("This effect's retry policy, over the integration's."),
};

/**
 * An outbound action (`- action: resend`, `- action: twilio`, …). The step only prepares the item while the
 * message's steps run; the consumer sends it with the batch's others, under the send ledger and the limits.
 * Its options are the action's own (one schema branch per action component) and the keys every send has.
 */
export const actionStep = defineComponent({
  kind: 'step',
  name: 'action',
  title: 'ActionStep',
  description: 'Sends an email, SMS, analytics event or HTTP request; `action` picks the adapter.',
  spec,
  example: {
    action: 'resend',
    from: 'Acme <hello@acme.dev>',
    to: 'data.email',
    subject: 'Hi',
    text: 'Hello!',
    api_key: 'RESEND_API_KEY',
  },
  // One branch per action: its options, beside the keys this step declares around them.
  schema: ({ actionBranches }) => ({
    title: 'ActionStep',
    description: 'An outbound action; `action` picks the adapter.',
    type: 'object',
    required: ['action'],
    discriminator: { propertyName: 'action' },
    oneOf: actionBranches({ limits: spec.limits.schema, retry: spec.retry.schema, description: { type: 'string' } }),
  }),
  // The block goes whole to the action component (its own options are beside `action`); limits and retry are the step's.
  create({ limits: limitNames, retry }, ctx): CompiledActionStep {
    const limits: CompiledLimit[] = limitNames.map((name) => {
      const limit = ctx.limits.get(name);
      if (!limit) throw new Error(`limit ${JSON.stringify(name)} is not declared under limits:`);
      if (limit.counts !== 'sends')
        throw new Error(
          `limit ${limit.name} counts ${limit.counts}, not sends: ${limit.counts === 'operations' ? "name it in a command's count:" : 'name it on a route'}`,
        );
      return limit;
    });
    const action = ctx.action(ctx.block);
    const perRecipient = limits.find((l) => l.perRecipient);
    if (perRecipient && !action.recipient)
      throw new Error(
        `limit ${perRecipient.name} counts per recipient, and a ${action.type} send has no single recipient`,
      );
    const keyOf = (limit: CompiledLimit, stepCtx: Parameters<CompiledStep['run']>[0], payload: unknown) =>
      limit.perRecipient
        ? (action.recipient!(payload) ?? '')
        : limit.per
          ? String(limit.per(stepCtx.values) ?? '')
          : '*';
    return {
      kind: 'action',
      effect: { action, ...(retry ? { retry } : {}) },
      // Its effect row commits with the event; the send is delivered after the commit.
      inRequest: true,
      run: (stepCtx) => {
        const payload = action.prepare(stepCtx);
        return {
          actions: [
            { action, payload, limits: limits.map((limit) => ({ limit, key: keyOf(limit, stepCtx, payload) })) },
          ],
        };
      },
    };
  },
});
