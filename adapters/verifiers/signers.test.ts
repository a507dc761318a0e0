/** `switchyard send` signs with these; each must satisfy both our verifier and the provider's own library. */
import { Paddle } from '@paddle/paddle-node-sdk';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { reason } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

const body = JSON.stringify({ id: 'evt_sign', type: 'test.event', data: { ok: true } });
const now = Date.now();
const url = 'https://hooks.example.com/webhooks/x';

async function roundTrip(
  type: string,
  options: Record<string, unknown>,
  secret: string,
  request: { body?: string; form?: Record<string, string>; url?: string } = {},
) {
  const adapter = defaultRegistry.verifiers.get(type)!;
  const sent = request.body ?? body;
  const headers = (
    await signRequest(adapter, options, {
      url: request.url ?? url,
      body: sent,
      now,
      secrets: [secret],
      ...(request.form ? { form: request.form } : {}),
    })
  ).headers;
  const verdict = await reason(
    build(adapter, options, undefined).verify(
      {
        method: 'POST',
        url: new URL(request.url ?? url),
        headers: new Headers(headers),
        body: new TextEncoder().encode(sent),
        now,
      },
      { S: secret },
    ),
  );
  return { headers, verdict };
}

describe('signers', () => {
  it('stripe: stripe-node constructs the event', async () => {
    const { headers, verdict } = await roundTrip('stripe', { secret: 'S' }, 'whsec_sign');
    expect(verdict).toBe('accepted');
    expect(new Stripe('sk_test_x').webhooks.constructEvent(body, headers['stripe-signature']!, 'whsec_sign').id).toBe(
      'evt_sign',
    );
  });

  it('svix and standard-webhooks: the official libraries verify', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const svix = await roundTrip('svix', { secret: 'S' }, secret);
    expect(svix.verdict).toBe('accepted');
    expect(new SvixWebhook(secret).verify(body, svix.headers)).toEqual(JSON.parse(body));
    const standard = await roundTrip('standard-webhooks', { secret: 'S' }, `v1,${secret}`);
    expect(standard.verdict).toBe('accepted');
    expect(new StandardWebhook(secret).verify(body, standard.headers)).toEqual(JSON.parse(body));
  });

  it("paddle: Paddle's SDK accepts the signature", async () => {
    const { headers, verdict } = await roundTrip('paddle', { secret: 'S' }, 'pdl_ntfset_sign');
    expect(verdict).toBe('accepted');
    expect(
      await new Paddle('pdl_sdbx_apikey_x').webhooks.isSignatureValid(
        body,
        'pdl_ntfset_sign',
        headers['paddle-signature']!,
      ),
    ).toBe(true);
  });

  it('twilio: twilio-node validates form and JSON requests', async () => {
    const form = { MessageSid: 'SM1', MessageStatus: 'delivered' };
    const signedForm = await roundTrip('twilio', { secret: 'S' }, 'tw_token', {
      body: new URLSearchParams(form).toString(),
      form,
    });
    expect(signedForm.verdict).toBe('accepted');
    expect(twilio.validateRequest('tw_token', signedForm.headers['x-twilio-signature']!, url, form)).toBe(true);
  });

  it('hmac (GitHub style) and token: verified, and GitHub-style by @octokit/webhooks-methods', async () => {
    const github = await roundTrip(
      'hmac',
      { secret: 'S', header: 'X-Hub-Signature-256', prefix: 'sha256=' },
      'gh_secret',
    );
    expect(github.verdict).toBe('accepted');
    expect(await octokitVerify('gh_secret', body, github.headers['x-hub-signature-256']!)).toBe(true);
    const stamped = await roundTrip(
      'hmac',
      {
        secret: 'S',
        header: 'X-Sig',
        encoding: 'base64',
        algorithm: 'sha512',
        signed: '{timestamp}.{body}',
        timestamp_header: 'X-Ts',
      },
      'k',
    );
    expect(stamped.verdict).toBe('accepted');
    expect((await roundTrip('token', { secret: 'S', header: 'X-Webhook-Token' }, 't0ken')).verdict).toBe('accepted');
    expect((await roundTrip('token', { secret: 'S', scheme: 'basic', username: 'auth0' }, 'pw')).verdict).toBe(
      'accepted',
    );
  });
});
