/**
 * The components a manifest may use, by kind and name. Built from one flat list (worker/registry.ts is the
 * default); tests build their own, empty or partial. Nothing is global, and a registry never changes once built.
 */
import type { Component, Kind } from './define.ts';

export interface Registry {
  readonly verifiers: ReadonlyMap<string, Component<'verifier'>>;
  readonly handshakes: ReadonlyMap<string, Component<'handshake'>>;
  readonly steps: ReadonlyMap<string, Component<'step'>>;
  readonly actions: ReadonlyMap<string, Component<'action'>>;
  readonly auth: ReadonlyMap<string, Component<'auth'>>;
  readonly endpoints: ReadonlyMap<string, Component<'endpoint'>>;
  /** Every component, in registration order (docs, the schema). */
  readonly all: readonly Component[];
}

const FIELD: Record<Kind, Exclude<keyof Registry, 'all'>> = {
  verifier: 'verifiers',
  handshake: 'handshakes',
  step: 'steps',
  action: 'actions',
  auth: 'auth',
  endpoint: 'endpoints',
};

/**
 * Builds a registry; a kind and name registered twice is refused.
 * @example createRegistry([hmacVerifier, sqlStep])
 */
// biome-ignore lint/suspicious/noExplicitAny: a Component is invariant in its options; any kind with any options goes here
export function createRegistry(components: readonly Component<any, any>[]): Registry {
  const maps = Object.fromEntries(Object.values(FIELD).map((f) => [f, new Map<string, Component>()])) as Record<
    Exclude<keyof Registry, 'all'>,
    Map<string, Component>
  >;
  for (const component of components) {
    const map = maps[FIELD[component.kind as Kind]];
    if (map.has(component.name)) throw new Error(`${component.kind} ${component.name} is registered twice`);
    map.set(component.name, component);
  }
  return Object.freeze({ ...maps, all: Object.freeze([...components]) }) as unknown as Registry;
}
