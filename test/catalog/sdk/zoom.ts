import { AwsLambdaReceiver } from '@zoom/rivet/meetings';
import type { CatalogSdk } from '../../support/catalog.ts';

/**
 * @zoom/rivet's receivers check x-zm-signature with CommonHttpRequest.isEventVerified (not exported); its
 * AwsLambdaReceiver is the public way in: 200 when the signature matches, 400 when it does not.
 */
export default {
  package: '@zoom/rivet',
  verify: async ({ secret, body, headers }) => {
    const receiver = new AwsLambdaReceiver({ webhooksSecretToken: secret });
    // Only the emitter is read when a request is verified: the rest of the app the receiver expects is not needed.
    receiver.init({ eventEmitter: { emit: async () => undefined } } as unknown as Parameters<typeof receiver.init>[0]);
    const handle = receiver.start() as (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
    const debug = console.debug;
    console.debug = () => undefined;
    try {
      return (await handle({ body, headers, isBase64Encoded: false }, {})).statusCode === 200;
    } finally {
      console.debug = debug;
    }
  },
} satisfies CatalogSdk;
