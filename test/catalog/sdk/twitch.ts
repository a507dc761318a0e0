import { createHmac, randomUUID } from 'node:crypto';
import type { CatalogSdk } from '../../support/catalog.ts';

/**
 * Twitch publishes no npm package that verifies EventSub; this ports its own code. sign: getSignatureHeader in the
 * Twitch CLI (twitchdev/twitch-cli internal/events/trigger/forward_event.go @ 1e7b72ef9fe1ffd5229ef3759b5fdcf6ea4251ee),
 * which signs `<message id><timestamp as RFC3339Nano><body>` as `sha256=<hex>`. verify: verifySignature in Twitch's
 * sample (twitchdev/eventsub-webhooks-node-sample index.js @ 6c2a8f542fe8d36d52605a7a745e99d3b86c68d3).
 */
const header = (headers: Record<string, string>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

/** Go's time.RFC3339Nano for a UTC instant with nanoseconds: trailing zeros of the fraction dropped, as Twitch sends. */
function rfc3339Nano(nowMs: number, extraNanos: number): string {
  const iso = new Date(nowMs).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(extraNanos).padStart(6, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

export default {
  package: 'github:twitchdev/twitch-cli',
  sign: async ({ secret, body, now }) => {
    const id = randomUUID();
    const timestamp = rfc3339Nano(now, Math.floor(Math.random() * 1_000_000));
    const mac = createHmac('sha256', secret)
      .update(id + timestamp)
      .update(body);
    return {
      'twitch-eventsub-message-id': id,
      'twitch-eventsub-message-timestamp': timestamp,
      'twitch-eventsub-message-signature': `sha256=${mac.digest('hex')}`,
    };
  },
  verify: async ({ secret, body, headers }) => {
    const message = `${header(headers, 'twitch-eventsub-message-id')}${header(headers, 'twitch-eventsub-message-timestamp')}${body}`;
    return (
      `sha256=${createHmac('sha256', secret).update(message).digest('hex')}` ===
      header(headers, 'twitch-eventsub-message-signature')
    );
  },
} satisfies CatalogSdk;
