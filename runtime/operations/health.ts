/**
 * GET /healthz: the Worker is up, which manifest it serves, and whether each integration can verify its webhooks
 * with the secrets this environment sets. Names only, never values; no D1 or KV read, so a monitor may poll it.
 */
import type { SecretEnv } from '../component/context.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import { secretState } from '../manifest/secrets.ts';

/** One integration in /healthz: `misconfigured` answers its webhooks 500 until a secret of its list is set. */
export interface IntegrationHealth {
  status: 'serving' | 'misconfigured';
  /** Secret names its verifier lists that this environment does not set. */
  unset_secrets?: string[];
}

/** The /healthz answer. `status`, `environment` and `manifest` are what earlier versions answered. */
export interface Health {
  status: 'ok';
  environment: string;
  manifest: { version: number; hash: string; integrations: string[] };
  integrations: Record<string, IntegrationHealth>;
  /** An unset name of a rotation list: the integration serves with the others. */
  warnings: string[];
  /** An integration whose verifier has no secret set. */
  errors: string[];
}

/**
 * Builds the answer for an environment. A secret a handshake learns (Asana, Notion) is not checked: it lives in D1,
 * which /healthz does not read.
 */
export function health(
  compiled: CompiledManifest,
  environment: string,
  hash: string,
  env: SecretEnv | undefined,
): Health {
  const integrations: Record<string, IntegrationHealth> = {};
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const [name, secrets] of compiled.secrets) {
    const state = secretState(secrets, env ?? {});
    integrations[name] = { status: state.status, ...(state.unset.length ? { unset_secrets: state.unset } : {}) };
    for (const { variable, verifyingWith } of state.partial)
      warnings.push(`${name}: secret ${variable} is not set; verifying with ${verifyingWith.join(', ')}`);
    for (const list of state.empty)
      errors.push(
        `${name}: ${list.length === 1 ? `secret ${list[0]} is not set` : `none of the secrets ${list.join(', ')} is set`}; its webhooks answer 500 misconfigured`,
      );
  }
  return {
    status: 'ok',
    environment,
    manifest: { version: compiled.version, hash, integrations: [...compiled.integrations.keys()] },
    integrations,
    warnings,
    errors,
  };
}
