/** A real app on the default manifest with real D1 (from cloudflare:test) and queues that record or fail. */
import { env } from 'cloudflare:test';
import built from '../../.switchyard/manifests.json';
import { defaultRegistry } from '../../adapters/registry.ts';
import { createApp } from '../../runtime/app.ts';
import { compileManifest, type CompiledManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import type { TelemetryEvent } from '../../runtime/telemetry.ts';

export const defaultManifest = (built as unknown as { environments: Record<string, { manifest: Manifest }> }).environments.default!.manifest;

/** A queue binding that records what is sent, and can be told to fail. */
export class RecordingQueue {
  messages: unknown[] = [];
  failures = 0;
  async send(body: unknown): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('Queue send failed: injected');
    }
    this.messages.push(structuredClone(body));
  }
  async sendBatch(batch: { body: unknown }[]): Promise<void> {
    for (const m of batch) await this.send(m.body);
  }
}

export interface Harness {
  request(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  queue: RecordingQueue;
  events: TelemetryEvent[];
  env: Record<string, unknown>;
}

export function harness(options: { compiled?: CompiledManifest; env?: Record<string, unknown>; now?: () => number } = {}): Harness {
  const compiled = options.compiled ?? compileManifest(defaultManifest, defaultRegistry);
  const events: TelemetryEvent[] = [];
  const queue = new RecordingQueue();
  const app = createApp({ compiled, environment: 'test', hash: 'test', emit: (e) => events.push(e), ...(options.now ? { now: options.now } : {}) });
  const testEnv = { ...env, EVENTS_QUEUE: queue, FULFILLMENT_QUEUE: new RecordingQueue(), ...options.env };
  const request = (path: string, init?: RequestInit) => Promise.resolve(app.request(`https://switchyard.test${path}`, init, testEnv));
  return {
    request,
    post: (path, body, headers = {}) => request(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }),
    queue,
    events,
    env: testEnv,
  };
}

export const uid = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
