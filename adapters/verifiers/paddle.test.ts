import { Paddle } from '@paddle/paddle-node-sdk';
import { describe, expect, it } from 'vitest';
import { PADDLE_DEFAULT_TOLERANCE, paddleVerifier } from './paddle.ts';
import { parseDuration } from '../../runtime/lib/duration.ts';
import { paddleSignature } from '../../test/support/sign.ts';
import { verifierSuite } from '../../test/support/verifier-suite.ts';

const body = JSON.stringify({
  event_id: 'evt_01hv8wptq8987qeep44cyrewp9',
  event_type: 'subscription.created',
  occurred_at: '2024-04-12T10:18:49.621022Z',
  data: { id: 'sub_1' },
});

verifierSuite('paddle', {
  adapter: paddleVerifier,
  options: { secret: 'TEST_SECRET' },
  secret: 'pdl_ntfset_01hv8wpts7wvsk4jdbs8v1ehcb_secret_one',
  otherSecret: 'pdl_ntfset_01hv8wpts7wvsk4jdbs8v1ehcb_secret_two',
  body,
  signatureHeader: 'paddle-signature',
  tolerance: parseDuration(PADDLE_DEFAULT_TOLERANCE) / 1000,
  sign: async (payload, secret, ts) => ({
    body: payload,
    headers: { 'paddle-signature': await paddleSignature(secret, payload, ts) },
  }),
  unknownVersions: (v) => v.replace('h1=', 'h2='),
  truncate: (v) => v.slice(0, -10),
  withDecoy: (v) => v.replace(';h1=', `;h1=${'0'.repeat(64)};h1=`),
});

describe('paddle cross-checks', () => {
  it("Paddle's Node SDK accepts our signature and refuses a tampered one", async () => {
    const secret = 'pdl_ntfset_secret';
    const header = await paddleSignature(secret, body);
    const sdk = new Paddle('pdl_sdbx_apikey_switchyard_test').webhooks;
    expect(await sdk.isSignatureValid(body, secret, header)).toBe(true);
    expect(await sdk.isSignatureValid(body.replace('sub_1', 'sub_2'), secret, header)).toBe(false);
  });
});
