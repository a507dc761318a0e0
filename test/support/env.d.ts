import type { RuntimeEnv } from '../../runtime/lib/envelope.ts';

declare global {
  namespace Cloudflare {
    interface Env extends RuntimeEnv {
      TEST_MIGRATIONS: import('@cloudflare/vitest-plugin').D1Migration[];
      TEST_SECRETS: Record<string, string>;
      OFFLINE_ENGINE: Fetcher;
      /** The conformance matrix's Node side (test/support/matrix.ts). */
      MATRIX: Fetcher;
      /** Set when a Postgres answers at SWITCHYARD_PG_URL: examples/postgres-migrations/*.sql, in order. */
      TEST_PG_MIGRATIONS?: string[];
      /** miniflare's Hyperdrive binding to that Postgres (vitest.config.ts). */
      HYPERDRIVE?: { connectionString: string };
      KV: KVNamespace;
      STRIPE_WEBHOOK_SECRET: string;
      CLERK_WEBHOOK_SECRET: string;
      SUPABASE_WEBHOOK_SECRET: string;
      PADDLE_WEBHOOK_SECRET: string;
      TWILIO_AUTH_TOKEN: string;
      GITHUB_WEBHOOK_SECRET: string;
      RESEND_WEBHOOK_SECRET: string;
      ADMIN_ORG_ID: string;
    }
  }
}
