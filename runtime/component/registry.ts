import type { StepAdapter } from './step.ts';
import type { VerifierAdapter } from './verifier.ts';
import type { ActionAdapter } from './action.ts';
import type { AuthAdapter } from './auth.ts';
import type { EndpointAdapter } from './endpoint.ts';
import type { HandshakeAdapter } from './handshake.ts';

/** The adapters a manifest may use, keyed by `type` (verifiers) and by key (steps). Immutable once built. */
export interface Registry {
  readonly verifiers: ReadonlyMap<string, VerifierAdapter>;
  readonly steps: ReadonlyMap<string, StepAdapter>;
  readonly actions: ReadonlyMap<string, ActionAdapter>;
  readonly auth: ReadonlyMap<string, AuthAdapter>;
  readonly endpoints: ReadonlyMap<string, EndpointAdapter>;
  readonly handshakes: ReadonlyMap<string, HandshakeAdapter>;
}

/**
 * Builds a registry from adapter lists. Tests build their own, empty or partial; nothing is global.
 * @example createRegistry({ verifiers: [hmacVerifier], steps: [sqlStep] })
 */
export function createRegistry(adapters: { verifiers?: VerifierAdapter[]; steps?: StepAdapter[]; actions?: ActionAdapter[]; auth?: AuthAdapter[]; endpoints?: EndpointAdapter[]; handshakes?: HandshakeAdapter[] }): Registry {
  const verifiers = new Map<string, VerifierAdapter>();
  for (const v of adapters.verifiers ?? []) {
    if (verifiers.has(v.type)) throw new Error(`verifier type ${v.type} is registered twice`);
    verifiers.set(v.type, v);
  }
  const steps = new Map<string, StepAdapter>();
  for (const s of adapters.steps ?? []) {
    if (steps.has(s.key)) throw new Error(`step ${s.key} is registered twice`);
    steps.set(s.key, s);
  }
  const actions = new Map<string, ActionAdapter>();
  for (const a of adapters.actions ?? []) {
    if (actions.has(a.type)) throw new Error(`action ${a.type} is registered twice`);
    actions.set(a.type, a);
  }
  const byType = <T extends { type: string }>(kind: string, list: T[] = []) => {
    const map = new Map<string, T>();
    for (const a of list) {
      if (map.has(a.type)) throw new Error(`${kind} ${a.type} is registered twice`);
      map.set(a.type, a);
    }
    return map;
  };
  return Object.freeze({ verifiers, steps, actions, auth: byType('auth provider', adapters.auth), endpoints: byType('endpoint', adapters.endpoints), handshakes: byType('handshake', adapters.handshakes) });
}
