import type { CatalogSdk } from '../../support/catalog.ts';

/**
 * Telegram publishes no npm package; this ports its own sender. The official Bot API server
 * (tdlib/telegram-bot-api telegram-bot-api/WebhookActor.cpp @ 0cf13d3bf40111136accb2be0712d70653296e6d,
 * WebhookActor::send_update) adds `X-Telegram-Bot-Api-Secret-Token: <secret_token>` verbatim to every webhook
 * request when setWebhook was given one; nothing is signed.
 */
export default {
  package: 'github:tdlib/telegram-bot-api',
  sign: async ({ secret }) => ({ 'x-telegram-bot-api-secret-token': secret }),
} satisfies CatalogSdk;
