import { EventWebhook } from '@sendgrid/eventwebhook';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derToP1363, sendgridVerifier } from './sendgrid.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), privateKey };
};
const one = pair();
const two = pair();
const privateFor = (pub: string) => (pub === one.publicKey ? one.privateKey : two.privateKey);

verifierSuite('sendgrid', {
  adapter: sendgridVerifier,
  options: { public_key: 'TEST_SECRET' },
  secret: one.publicKey,
  otherSecret: two.publicKey,
  body:
    JSON.stringify([{ email: 'a@example.com', event: 'delivered', sg_event_id: 'ev1', timestamp: 1_750_000_000 }]) +
    '\r\n',
  signatureHeader: 'x-twilio-email-event-webhook-signature',
  tolerance: 300,
  async sign(payload, publicKey, ts) {
    // Node signs DER, exactly as SendGrid sends it.
    const signature = sign('sha256', Buffer.from(`${ts}${payload}`), {
      key: privateFor(publicKey),
      dsaEncoding: 'der',
    }).toString('base64');
    return {
      body: payload,
      headers: {
        'x-twilio-email-event-webhook-signature': signature,
        'x-twilio-email-event-webhook-timestamp': String(ts),
      },
    };
  },
  truncate: (v) => v.slice(0, -8),
});

describe("sendgrid known answers (from @sendgrid/eventwebhook's own tests)", () => {
  const PUBLIC_KEY =
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==';
  const SIGNATURE = 'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=';
  const TIMESTAMP = '1600112502';
  const PAYLOAD = `${JSON.stringify([
    {
      email: 'hello@world.com',
      event: 'dropped',
      reason: 'Bounced Address',
      sg_event_id: 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA',
      sg_message_id: 'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
      'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
      timestamp: 1600112492,
    },
  ])}\r\n`;
  const verifier = build(sendgridVerifier, { public_key: 'K' }, undefined);
  const headers = {
    'x-twilio-email-event-webhook-signature': SIGNATURE,
    'x-twilio-email-event-webhook-timestamp': TIMESTAMP,
  };

  it('verifies the published vector, as the official library does', async () => {
    const official = new EventWebhook();
    expect(official.verifySignature(official.convertPublicKeyToECDSA(PUBLIC_KEY), PAYLOAD, SIGNATURE, TIMESTAMP)).toBe(
      true,
    );
    expect(await reason(verifier.verify(request({ body: PAYLOAD, headers }, 1_600_112_502), { K: PUBLIC_KEY }))).toBe(
      'accepted',
    );
  });

  it('refuses the vector with a changed payload or another key', async () => {
    expect(
      await reason(verifier.verify(request({ body: PAYLOAD.trimEnd(), headers }, 1_600_112_502), { K: PUBLIC_KEY })),
    ).toBe('signature_mismatch');
    expect(
      await reason(verifier.verify(request({ body: PAYLOAD, headers }, 1_600_112_502), { K: one.publicKey })),
    ).toBe('signature_mismatch');
  });

  it('converts DER to raw r||s, padding short integers and dropping sign bytes', () => {
    const der = Buffer.from(SIGNATURE, 'base64');
    const raw = derToP1363(der)!;
    expect(raw).toHaveLength(64);
    expect(derToP1363(der.subarray(0, der.length - 1))).toBeUndefined();
    expect(derToP1363(new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]))).toEqual(
      Uint8Array.from({ length: 64 }, (_, i) => (i === 31 ? 1 : i === 63 ? 2 : 0)),
    );
  });
});
