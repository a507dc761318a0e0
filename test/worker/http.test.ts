import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

const TEST_SECRETS = env.TEST_SECRETS;

const worker = (exports as unknown as { default: Fetcher }).default;
const get = (path: string, init?: RequestInit) => worker.fetch(`http://localhost${path}`, init);

describe('the generic Worker', () => {
  it('serves /healthz with the manifest version, hash and environment, and no secrets', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body).toMatchObject({ status: 'ok', environment: 'default', manifest: { version: 2 } });
    expect(body.manifest.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.manifest.integrations).toEqual(['stripe', 'clerk', 'supabase', 'paddle', 'twilio', 'github', 'resend']);
    for (const value of Object.values(TEST_SECRETS)) expect(text).not.toContain(value);
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await get('/webhooks/nope', { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'no route for /webhooks/nope' });
  });

  it('answers a wrong method with 405 JSON and an Allow header', async () => {
    const res = await get('/webhooks/stripe');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ error: 'method_not_allowed' });
    const health = await get('/healthz', { method: 'DELETE' });
    expect(health.status).toBe(405);
    expect(await health.json()).toMatchObject({ error: 'method_not_allowed' });
  });

  it('refuses an unsigned webhook with 401 JSON naming the reason', async () => {
    const res = await get('/webhooks/stripe', { method: 'POST', body: '{"id":"evt_x","type":"x"}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: 'unauthorized',
      message: 'signature verification failed',
      reason: 'missing_signature',
    });
  });
});
