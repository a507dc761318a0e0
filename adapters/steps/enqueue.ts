import type { CompiledStep } from '../../runtime/component/step.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { compileValue, type ValueFn } from '../../runtime/language/values.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';

export interface CompiledEnqueueStep extends CompiledStep {
  kind: 'enqueue';
  queue: string;
  body: [string, ValueFn][];
}

/**
 * Sends a message built from the event to another queue declared in the manifest. It goes through the outbox:
 * written in the message's transaction, sent after commit, so a message that fails to apply sends nothing.
 */
export const enqueueStep = defineComponent({
  kind: 'step',
  name: 'enqueue',
  title: 'EnqueueStep',
  description: 'Sends a message built from the event to another queue.',
  spec: {
    enqueue: field.string().describe('Name of a queue declared under `queues:`.'),
    body: field.record(field.ref<Value>('Value')).describe('The message: a value for each field.'),
  },
  example: {
    enqueue: 'fulfillment',
    body: { orderId: 'data.object.metadata.order_id', customerId: 'data.object.customer' },
  },
  create(options, ctx): CompiledEnqueueStep {
    if (!ctx.queues.has(options.enqueue)) {
      throw new Error(
        `queue ${JSON.stringify(options.enqueue)} is not declared under queues: (declared: ${[...ctx.queues].join(', ') || 'none'})`,
      );
    }
    const body: [string, ValueFn][] = Object.entries(options.body).map(([k, v]) => [
      k,
      compileValue(v, { allowEnvelope: true }),
    ]);
    return {
      kind: 'enqueue',
      queue: options.enqueue,
      body,
      // Its outbox row commits with the event; the message is sent after the commit.
      inRequest: true,
      run: (ctx) => ({
        outbox: [
          { queue: options.enqueue, body: Object.fromEntries(body.map(([k, value]) => [k, value(ctx.values)])) },
        ],
      }),
    };
  },
});
