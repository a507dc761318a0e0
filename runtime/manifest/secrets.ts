/**
 * Which secrets an integration's verifier reads, and what the environment gives for them: the one answer ingest
 * (a warning, once per isolate) and /healthz (serving or misconfigured) share. Read from the manifest block and the
 * adapter's spec alone, so /healthz compiles no integration.
 */
import { isSecretSet, type SecretEnv } from '../component/context.ts';
import { learntSecretSpec } from '../component/handshake.ts';
import type { Registry } from '../component/registry.ts';
import { secretNames } from '../component/spec.ts';
import type { Integration } from './types.gen.ts';

/** The secret names an integration's verifier reads: one list per secret option (any set name of a list verifies). */
export interface IntegrationSecrets {
  lists: string[][];
  /** Names its handshake learns and keeps in D1 when the environment does not set them (Asana, Notion). */
  learnt: string[];
}

/** The verifier's secret options and the handshake's learnt secret, from the integration's manifest block. */
export function integrationSecrets(registry: Registry, spec: Integration): IntegrationSecrets {
  const verifier = spec.verifier as unknown as ({ type?: string } & Record<string, unknown>) | undefined;
  const adapter = verifier?.type ? registry.verifiers.get(verifier.type) : undefined;
  const handshake = spec.handshake as unknown as
    | ({ type?: string; secret?: unknown } & Record<string, unknown>)
    | null
    | undefined;
  const learns = handshake?.type
    ? registry.handshakes.get(handshake.type)?.spec.secret === learntSecretSpec.secret
    : false;
  return {
    lists: adapter && verifier ? secretNames(adapter.spec, verifier).filter((names) => names.length > 0) : [],
    learnt: learns && typeof handshake!.secret === 'string' ? [handshake!.secret] : [],
  };
}

/** What the environment gives an integration's verifier. */
export interface SecretState {
  /** `misconfigured` when a list has no name set: its webhooks answer 500. */
  status: 'serving' | 'misconfigured';
  /** Every name not set (a learnt name is not counted: its handshake may provide it). */
  unset: string[];
  /** Names unset in a list that still verifies with others: `verifyingWith` are the set ones. */
  partial: { variable: string; verifyingWith: string[] }[];
  /** Lists with no name set. */
  empty: string[][];
}

/** The state of an integration's secrets in this environment (a few property reads; no I/O). */
export function secretState(secrets: IntegrationSecrets, env: SecretEnv): SecretState {
  const unset: string[] = [];
  const partial: SecretState['partial'] = [];
  const empty: string[][] = [];
  for (const list of secrets.lists) {
    const names = list.filter((name) => !secrets.learnt.includes(name));
    const missing = names.filter((name) => !isSecretSet(env, name));
    if (!missing.length) continue;
    unset.push(...missing.filter((name) => !unset.includes(name)));
    const set = list.filter((name) => !missing.includes(name));
    if (set.length) partial.push(...missing.map((variable) => ({ variable, verifyingWith: set })));
    else empty.push(list);
  }
  return { status: empty.length ? 'misconfigured' : 'serving', unset, partial, empty };
}
