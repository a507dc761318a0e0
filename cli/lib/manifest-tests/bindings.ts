/**
 * In-memory stand-ins for the Worker's queue and KV bindings, for running the real runtime without the platform.
 * Worker-safe. A queue keeps what was sent with the time it becomes due (a `delaySeconds` send, a message's
 * `retry`), so the runner delivers messages as the clock reaches them.
 */

export interface QueuedMessage {
  id: string;
  body: unknown;
  attempts: number;
  dueAt: number;
}

/** A queue producer binding that records sends; the runner takes what is due and hands it to the consumer. */
export class OfflineQueue {
  readonly binding: string;
  /** Every message ever sent, in order (what a case's `enqueued:` expectation reads). */
  readonly sent: { body: unknown; delaySeconds: number }[] = [];
  private waiting: QueuedMessage[] = [];
  private ids = 0;
  private readonly clock: () => number;
  constructor(binding: string, clock: () => number) {
    this.binding = binding;
    this.clock = clock;
  }
  async send(body: unknown, options?: { delaySeconds?: number }): Promise<void> {
    const delaySeconds = options?.delaySeconds ?? 0;
    const copy = structuredClone(body);
    this.sent.push({ body: copy, delaySeconds });
    this.push(copy, 1, this.clock() + delaySeconds * 1000);
  }
  async sendBatch(
    messages: { body: unknown; delaySeconds?: number }[],
    options?: { delaySeconds?: number },
  ): Promise<void> {
    for (const m of messages) await this.send(m.body, { delaySeconds: m.delaySeconds ?? options?.delaySeconds ?? 0 });
  }
  /** Puts a message (back) on the queue, due at `dueAt`. */
  push(body: unknown, attempts: number, dueAt: number): void {
    this.waiting.push({ id: `${this.binding.toLowerCase()}-${++this.ids}`, body, attempts, dueAt });
  }
  /** Takes the messages due by `now`, oldest first. */
  takeDue(now: number): QueuedMessage[] {
    const due = this.waiting.filter((m) => m.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    this.waiting = this.waiting.filter((m) => m.dueAt > now);
    return due;
  }
  get pending(): number {
    return this.waiting.length;
  }
}

/** A KV namespace in a Map (text values; expiry by the runner's clock). */
export class MemoryKV {
  private entries = new Map<string, { value: string; expiresAt?: number; metadata?: unknown }>();
  private readonly clock: () => number;
  constructor(clock: () => number) {
    this.clock = clock;
  }
  private live(key: string) {
    const e = this.entries.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
  async get(key: string, options?: string | { type?: string }): Promise<unknown> {
    const e = this.live(key);
    if (!e) return null;
    const type = typeof options === 'string' ? options : options?.type;
    if (type === 'json') return JSON.parse(e.value);
    if (type === 'arrayBuffer') return new TextEncoder().encode(e.value).buffer;
    return e.value;
  }
  async getWithMetadata(
    key: string,
    options?: string | { type?: string },
  ): Promise<{ value: unknown; metadata: unknown }> {
    return { value: await this.get(key, options), metadata: this.live(key)?.metadata ?? null };
  }
  async put(
    key: string,
    value: string | ArrayBuffer,
    options: { expirationTtl?: number; expiration?: number; metadata?: unknown } = {},
  ): Promise<void> {
    const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
    const expiresAt = options.expirationTtl
      ? this.clock() + options.expirationTtl * 1000
      : options.expiration
        ? options.expiration * 1000
        : undefined;
    this.entries.set(key, {
      value: text,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
    });
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async list(
    options: { prefix?: string } = {},
  ): Promise<{ keys: { name: string }[]; list_complete: true; cacheStatus: null }> {
    const keys = [...this.entries.keys()]
      .filter((k) => k.startsWith(options.prefix ?? '') && this.live(k))
      .sort()
      .map((name) => ({ name }));
    return { keys, list_complete: true, cacheStatus: null };
  }
}
