/**
 * A command from another Worker: a second Worker in the same workerd (test/support/caller-worker.ts) calls switchyard
 * through a Service Binding to its SwitchyardEntrypoint with the generated typed client, over RPC and over HTTP. The
 * switchyard side is the real Worker entry (worker/index.ts): it applies the call in the request and sends the email
 * right after the answer (`ctx.waitUntil`).
 */
import { env } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviders } from '../support/fake-providers.ts';
import type { CallRequest } from '../support/caller-worker.ts';
import { commandCallId } from '../../runtime/store/index.ts';

declare module 'cloudflare:test' {
  interface ProvidedEnv {
    CALLER: Fetcher;
  }
}

const caller = (env as unknown as { CALLER: Fetcher }).CALLER;
const ask = async (call: CallRequest) =>
  (await caller.fetch('https://caller.test/', { method: 'POST', body: JSON.stringify(call) })).json() as Promise<
    Record<string, unknown>
  >;

let providers: FakeProviders;
const realFetch = globalThis.fetch;
beforeEach(() => {
  providers = new FakeProviders();
  // The Worker entry sends through the global fetch of this isolate: point it at the fake providers.
  globalThis.fetch = providers.fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Waits for the Worker (its work after the answer, or its queue consumer) to have sent what the test expects. */
async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the email');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('send_password_reset from a second Worker through a Service Binding', () => {
  it('sends exactly one email for two RPC calls with the same key; the second is answered as a replay', async () => {
    const key = crypto.randomUUID();
    const email = `rpc-${key.slice(0, 8)}@example.com`;
    const input = { email, reset_url: 'https://app.example.com/reset?t=1' };
    const first = await ask({ via: 'rpc', command: 'send_password_reset', input, key });
    const second = await ask({ via: 'rpc', command: 'send_password_reset', input, key });
    expect(first).toEqual({ ok: true, accepted: { id: key, status: 'applied', replayed: false } });
    expect(second).toEqual({ ok: true, accepted: { id: key, status: 'applied', replayed: true } });
    await until(() => providers.emails.some((e) => e.to[0] === email));
    await new Promise((r) => setTimeout(r, 1500));
    expect(providers.emails.filter((e) => e.to[0] === email)).toEqual([
      {
        to: [email],
        subject: 'Reset your password',
        key: `command:send_password_reset:${await commandCallId(key, 'rpc')}:0:0`,
      },
    ]);
  });

  it('answers bad input with 422 and the failing path, through the typed client', async () => {
    const answer = await ask({
      via: 'rpc',
      command: 'send_password_reset',
      input: { email: 'nope' },
      key: crypto.randomUUID(),
    });
    expect(answer).toMatchObject({ ok: false, status: 422, error: 'unprocessable' });
    expect(answer.problems).toEqual(
      expect.arrayContaining([
        { path: '/email', message: 'must match format "email"' },
        { path: '/reset_url', message: 'is required' },
      ]),
    );
  });

  it('over HTTP through the same binding: the service token is required (401 without it), and two calls send one email', async () => {
    const key = crypto.randomUUID();
    const email = `http-${key.slice(0, 8)}@example.com`;
    const input = { email, reset_url: 'https://app.example.com/reset?t=2' };
    expect(await ask({ via: 'http', command: 'send_password_reset', input, key, token: 'guess' })).toMatchObject({
      ok: false,
      status: 401,
      error: 'unauthorized',
    });
    const token = env.TEST_SECRETS.SWITCHYARD_SERVICE_TOKEN!;
    expect(await ask({ via: 'http', command: 'send_password_reset', input, key, token })).toEqual({
      ok: true,
      accepted: { id: key, status: 'applied', replayed: false },
    });
    expect(await ask({ via: 'http', command: 'send_password_reset', input, key, token })).toEqual({
      ok: true,
      accepted: { id: key, status: 'applied', replayed: true },
    });
    await until(() => providers.emails.some((e) => e.to[0] === email));
    await new Promise((r) => setTimeout(r, 1500));
    expect(providers.emails.filter((e) => e.to[0] === email)).toHaveLength(1);
  });
});
