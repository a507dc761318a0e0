/**
 * Reads what `validate` needs from wrangler.toml for one environment. Bindings (vars, queues, D1, KV) are not
 * inherited by `[env.X]` in wrangler, so an environment's bindings are exactly what its own table declares.
 */
import { parse } from 'smol-toml';

export interface QueueConsumer {
  queue: string;
  max_retries?: number;
  dead_letter_queue?: string;
}

export interface WranglerEnvironment {
  name: string;
  vars: Record<string, unknown>;
  producers: Map<string, string>;
  consumers: QueueConsumer[];
  d1: Set<string>;
  kv: Set<string>;
  /** `[triggers] crons`: when Cloudflare fires the scheduled handler (`switchyard dev` fires them itself). */
  crons: string[];
}

type Table = Record<string, unknown>;

function envTable(config: Table, environment: string | undefined): Table | undefined {
  if (!environment || environment === 'default') return config;
  return (config.env as Table | undefined)?.[environment] as Table | undefined;
}

/** Parses wrangler.toml text; throws with the TOML error's position when it does not parse. */
export function readWranglerEnvironment(text: string, environment?: string): WranglerEnvironment | undefined {
  const config = parse(text) as Table;
  const table = envTable(config, environment);
  if (!table) return undefined;
  const queues = (table.queues as Table | undefined) ?? {};
  const producers = new Map<string, string>();
  for (const p of (queues.producers as { binding: string; queue: string }[] | undefined) ?? [])
    producers.set(p.binding, p.queue);
  return {
    name: environment ?? 'default',
    vars: (table.vars as Table | undefined) ?? {},
    producers,
    consumers: (queues.consumers as QueueConsumer[] | undefined) ?? [],
    d1: new Set(((table.d1_databases as { binding: string }[] | undefined) ?? []).map((d) => d.binding)),
    kv: new Set(((table.kv_namespaces as { binding: string }[] | undefined) ?? []).map((k) => k.binding)),
    crons:
      ((table.triggers as { crons?: unknown } | undefined)?.crons as string[] | undefined)?.filter(
        (c) => typeof c === 'string',
      ) ?? [],
  };
}

/** The environments wrangler.toml declares under `[env.*]`. */
export function wranglerEnvironments(text: string): string[] {
  return Object.keys(((parse(text) as Table).env as Table | undefined) ?? {});
}
