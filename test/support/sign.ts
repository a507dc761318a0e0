/**
 * Signing as the providers do, for tests: thin wrappers over the adapters' own signers (what `switchyard send`
 * uses), which adapters/verifiers/signers.test.ts cross-checks against each provider's official library.
 */
import type { SignRequest } from '../../runtime/component/verifier.ts';
import { hmacVerifier } from '../../adapters/verifiers/hmac.ts';
import { paddleVerifier } from '../../adapters/verifiers/paddle.ts';
import { standardWebhooksVerifier } from '../../adapters/verifiers/standard-webhooks.ts';
import { stripeVerifier } from '../../adapters/verifiers/stripe.ts';
import { svixVerifier } from '../../adapters/verifiers/svix.ts';
import { twilioVerifier } from '../../adapters/verifiers/twilio.ts';
import type { Component } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

export const nowSeconds = () => Math.floor(Date.now() / 1000);

async function sign(
  // biome-ignore lint/suspicious/noExplicitAny: any verifier, whatever its options (Component is invariant in them)
  adapter: Component<'verifier', any>,
  options: Record<string, unknown>,
  secret: string,
  request: Omit<SignRequest, 'secrets' | 'now' | 'url'> & { url?: string; ts?: number },
) {
  const { ts = nowSeconds(), url = 'https://switchyard.test/', ...rest } = request;
  return (await signRequest(adapter, options, { ...rest, url, now: ts * 1000, secrets: [secret] })).headers;
}

export async function stripeSignature(secret: string, body: string, t = nowSeconds()): Promise<string> {
  return (await sign(stripeVerifier, { secret: 'S' }, secret, { body, ts: t }))['stripe-signature']!;
}

/** Svix (`svix-`) or Standard Webhooks (`webhook-`) headers for a message id. */
export async function svixHeaders(
  prefix: 'svix-' | 'webhook-',
  secret: string,
  id: string,
  body: string,
  ts = nowSeconds(),
): Promise<Record<string, string>> {
  return sign(prefix === 'svix-' ? svixVerifier : standardWebhooksVerifier, { secret: 'S' }, secret, { body, id, ts });
}

export async function paddleSignature(secret: string, body: string, ts = nowSeconds()): Promise<string> {
  return (await sign(paddleVerifier, { secret: 'S' }, secret, { body, ts }))['paddle-signature']!;
}

export async function twilioSignature(token: string, url: string, params: Record<string, string>): Promise<string> {
  return (
    await sign(twilioVerifier, { secret: 'S' }, token, {
      url,
      body: new URLSearchParams(params).toString(),
      form: params,
    })
  )['x-twilio-signature']!;
}

export async function githubSignature(secret: string, body: string): Promise<string> {
  return (
    await sign(hmacVerifier, { secret: 'S', header: 'X-Hub-Signature-256', prefix: 'sha256=' }, secret, { body })
  )['x-hub-signature-256']!;
}

/** Shopify: base64 HMAC-SHA256 of the body, through the generic hmac verifier's signer. */
export async function shopifySignature(secret: string, body: string): Promise<string> {
  return (
    await sign(hmacVerifier, { secret: 'S', header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' }, secret, { body })
  )['x-shopify-hmac-sha256']!;
}
