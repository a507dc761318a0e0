import type { CompiledStep, StepAdapter } from '../../runtime/component/step.ts';
import { compileValue, valueSchema, type ValueFn } from '../../runtime/manifest/values.ts';
import type { EnqueueStep } from '../../runtime/manifest/types.gen.ts';

type EnqueueOptions = EnqueueStep;

export interface CompiledEnqueueStep extends CompiledStep {
  kind: 'enqueue';
  queue: string;
  body: [string, ValueFn][];
}

/**
 * Sends a message built from the event to another queue declared in the manifest. It goes through the outbox:
 * written in the message's transaction, sent after commit, so a message that fails to apply sends nothing.
 */
export const enqueueStep: StepAdapter<EnqueueOptions, CompiledEnqueueStep> = {
  key: 'enqueue',
  title: 'EnqueueStep',
  description: 'Sends a message built from the event to another queue.',
  options: {
    properties: {
      enqueue: { type: 'string', description: 'Name of a queue declared under `queues:`.' },
      body: { type: 'object', additionalProperties: valueSchema, description: 'The message: a value for each field.' },
    },
    required: ['enqueue', 'body'],
  },
  example: { enqueue: 'fulfillment', body: { orderId: 'data.object.metadata.order_id', customerId: 'data.object.customer' } },
  compile(options, ctx) {
    if (!ctx.queues.has(options.enqueue)) {
      throw new Error(`queue ${JSON.stringify(options.enqueue)} is not declared under queues: (declared: ${[...ctx.queues].join(', ') || 'none'})`);
    }
    const body: [string, ValueFn][] = Object.entries(options.body).map(([k, v]) => [k, compileValue(v, { allowEnvelope: true })]);
    return {
      kind: 'enqueue',
      queue: options.enqueue,
      body,
      run: (ctx) => ({ outbox: [{ queue: options.enqueue, body: Object.fromEntries(body.map(([k, value]) => [k, value(ctx.values)])) }] }),
    };
  },
};
