import { standardWebhooksFamily } from './standard-webhooks.ts';

/** Svix (`svix-id`, `svix-timestamp`, `svix-signature`), used by Clerk and Resend: Standard Webhooks under other header names. */
export const svixVerifier = standardWebhooksFamily(
  'svix',
  'svix-',
  'SvixVerifier',
  'Svix webhook signatures (svix-id/-timestamp/-signature), as sent by Clerk and Resend.',
  'CLERK_WEBHOOK_SECRET',
);
