import { defineComponent } from '../../runtime/component/define.ts';

/**
 * A HEAD to the route, answered 200 with an empty body (Trello checks its callbackURL this way when a webhook is
 * created, and refuses to create it without a 200). The HEAD carries no body and no signature, so it is not
 * verified; it reveals nothing and changes nothing, and is never queued or written to the event log.
 */
export const headOkHandshake = defineComponent({
  kind: 'handshake',
  name: 'head-ok',
  title: 'HeadOkHandshake',
  description: "A HEAD to the route (an unsigned reachability check, e.g. Trello's), answered 200 with an empty body.",
  spec: {},
  example: { type: 'head-ok' },
  create() {
    return {
      methods: ['HEAD'],
      verify: false,
      matches: (request) => request.method === 'HEAD',
      answer: async () => ({ status: 200, contentType: 'text/plain', body: '' }),
    };
  },
});
