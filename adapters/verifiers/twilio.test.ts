import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { twilioVerifier } from './twilio.ts';
import { twilioSignature } from '../../test/support/sign.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';
import { VERIFICATION_REASONS } from '../../runtime/component/verifier.ts';

const URL_SIGNED = 'https://hooks.example.com/webhooks/twilio';
const params = {
  MessageSid: 'SM1234567890abcdef',
  MessageStatus: 'delivered',
  To: '+15558675310',
  AccountSid: 'AC123',
  ApiVersion: '2010-04-01',
};

verifierSuite('twilio', {
  adapter: twilioVerifier,
  options: { secret: 'TEST_SECRET' },
  secret: 'twilio_auth_token_one_0123456789',
  otherSecret: 'twilio_auth_token_two_0123456789',
  body: new URLSearchParams(params).toString(),
  url: URL_SIGNED,
  signatureHeader: 'x-twilio-signature',
  async sign(payload, token) {
    const fields = Object.fromEntries(new URLSearchParams(payload));
    return {
      body: payload,
      headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, URL_SIGNED, fields) },
    };
  },
  truncate: (v) => v.slice(0, -4),
});

describe('twilio specifics', () => {
  const verifier = build(twilioVerifier, { secret: 'T' }, undefined);
  const check = (url: string, body: string, signature: string, token = '12345', v = verifier) =>
    reason(v.verify(request({ body, headers: { 'x-twilio-signature': signature }, url }), { T: token }));

  it("matches Twilio's documented example (form params)", async () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const fields = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675310',
      Digits: '1234',
      From: '+14158675310',
      To: '+18005551212',
    };
    const signature = 'GvWf1cFY/Q7PnoempGyD5oXAezc=';
    expect(twilio.validateRequest('12345', signature, url, fields)).toBe(true);
    expect(await check(url, new URLSearchParams(fields).toString(), signature)).toBe('accepted');
    expect(await twilioSignature('12345', url, fields)).toBe(signature);
  });

  it('checks JSON bodies through ?bodySHA256= (documented example)', async () => {
    const url = 'https://example.com/myapp?bodySHA256=5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9';
    const body = '{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}';
    const signature = twilio.getExpectedTwilioSignature('12345', url, {});
    expect(twilio.validateRequestWithBody('12345', signature, url, body)).toBe(true);
    expect(await check(url, body, signature)).toBe('accepted');
    expect(await check(url, body.replace('3030', '3031'), signature)).toBe('body_hash_mismatch');
  });

  it('accepts the URL with and without the default port', async () => {
    const body = new URLSearchParams(params).toString();
    const withPort = twilio.getExpectedTwilioSignature(
      '12345',
      'https://hooks.example.com:443/webhooks/twilio',
      params,
    );
    expect(await check(URL_SIGNED, body, withPort)).toBe('accepted');
    const withoutPort = twilio.getExpectedTwilioSignature('12345', URL_SIGNED, params);
    expect(await check('https://hooks.example.com:443/webhooks/twilio', body, withoutPort)).toBe('accepted');
  });

  it('uses the configured public URL when the Worker sits behind a proxy', async () => {
    const body = new URLSearchParams(params).toString();
    const signature = twilio.getExpectedTwilioSignature(
      '12345',
      'https://api.example.com/twilio/status?tenant=7',
      params,
    );
    const proxied = build(
      twilioVerifier,
      { secret: 'T', public_url: 'https://api.example.com/twilio/status' },
      undefined,
    );
    expect(await check('http://worker.internal/webhooks/twilio?tenant=7', body, signature, '12345', proxied)).toBe(
      'accepted',
    );
    expect(await check('http://worker.internal/webhooks/twilio?tenant=7', body, signature)).toBe('signature_mismatch');
  });

  it('refuses the signature without its base64 padding, as twilio-node does (found by the fuzz test)', async () => {
    const body = new URLSearchParams(params).toString();
    const signature = twilio.getExpectedTwilioSignature('12345', URL_SIGNED, params);
    expect(signature.endsWith('=')).toBe(true);
    expect(twilio.validateRequest('12345', signature.replace(/=+$/, ''), URL_SIGNED, params)).toBe(false);
    expect(await check(URL_SIGNED, body, signature.replace(/=+$/, ''))).toBe('malformed_signature');
  });

  it('sorts repeated parameters as twilio-node does', async () => {
    const body = 'To=%2B1555&MediaUrl=https%3A%2F%2Fb&MediaUrl=https%3A%2F%2Fa';
    const signature = twilio.getExpectedTwilioSignature('12345', URL_SIGNED, {
      To: '+1555',
      MediaUrl: ['https://b', 'https://a'],
    });
    expect(await check(URL_SIGNED, body, signature)).toBe('accepted');
  });
});

describe('twilio: repeated fields', () => {
  const verifier = build(twilioVerifier, { secret: 'T' }, undefined);
  it('refuses a field repeating a value: twilio-node signs it as once, so the repeat is not covered', async () => {
    const body = new URLSearchParams(params).toString();
    const signature = twilio.getExpectedTwilioSignature('12345', URL_SIGNED, params);
    expect(
      twilio.validateRequest('12345', signature, URL_SIGNED, { ...params, MessageStatus: ['delivered', 'delivered'] }),
    ).toBe(true);
    const stretched = `${body}&MessageStatus=delivered`;
    expect(
      await reason(
        verifier.verify(request({ body: stretched, headers: { 'x-twilio-signature': signature }, url: URL_SIGNED }), {
          T: '12345',
        }),
      ),
    ).toBe('repeated_field');
  });

  it('declares repeated_field as its own reason, beyond the core list (telemetry and docs list it)', () => {
    expect(VERIFICATION_REASONS).not.toContain('repeated_field');
    expect(twilioVerifier.reasons).toEqual(['repeated_field']);
  });
});
