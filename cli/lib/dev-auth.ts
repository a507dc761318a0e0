/**
 * The CLI side of the local dev issuer (runtime/edge/dev-auth.ts): its key pair in `.switchyard/dev-auth.json`
 * (git-ignored), the variables `switchyard dev` passes to the Worker, tokens minted with it, and the `validate`
 * check that keeps it out of every deployed environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import {
  DEV_ALGORITHM,
  DEV_AUTH_VAR,
  DEV_ISSUER,
  DEV_JWK_VAR,
  DEV_PROVIDER_CLAIM,
} from '../../runtime/edge/dev-auth.ts';
import type { SourcedProblem } from '../../runtime/manifest/load.ts';
import { writeIfChanged, type Project } from './project.ts';

export interface DevAuthKey {
  alg: typeof DEV_ALGORITHM;
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

export const devAuthFile = (project: Project) => join(project.buildDir, 'dev-auth.json');

/** The project's dev key pair, generated on first use. */
export async function ensureDevAuthKey(project: Project): Promise<DevAuthKey> {
  const file = devAuthFile(project);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevAuthKey;
  const key = await generateDevAuthKey();
  writeIfChanged(file, `${JSON.stringify(key, null, 2)}\n`);
  return key;
}

/** A fresh dev key pair (ES256). */
export async function generateDevAuthKey(): Promise<DevAuthKey> {
  const { publicKey, privateKey } = await generateKeyPair(DEV_ALGORITHM, { extractable: true });
  const kid = `${DEV_ISSUER}-${Date.now().toString(36)}`;
  return {
    alg: DEV_ALGORITHM,
    kid,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: DEV_ALGORITHM, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: DEV_ALGORITHM },
  };
}

/** The Worker variables that switch the dev issuer on, as `wrangler dev --var NAME:VALUE` arguments. */
export function devAuthVars(key: DevAuthKey): Record<string, string> {
  return { [DEV_AUTH_VAR]: '1', [DEV_JWK_VAR]: JSON.stringify(key.publicJwk) };
}

export interface MintOptions {
  provider: string;
  sub: string;
  claims?: JWTPayload;
  audience?: string | string[];
  ttlSeconds?: number;
  now?: number;
}

/** A token from the dev issuer standing in for one provider (its name in the manifest's `auth:`). */
export async function mintDevToken(key: DevAuthKey, options: MintOptions): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const audience = Array.isArray(options.audience) ? options.audience[0] : options.audience;
  return new SignJWT({ ...options.claims, [DEV_PROVIDER_CLAIM]: options.provider })
    .setProtectedHeader({ alg: DEV_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setSubject(options.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600))
    .setAudience(audience ?? DEV_ISSUER)
    .sign(await importJWK(key.privateJwk, DEV_ALGORITHM));
}

const DEV_VARS = [DEV_AUTH_VAR, DEV_JWK_VAR];

/**
 * `validate`: the dev issuer's variables may never be in wrangler.toml, whose `[vars]` (top level and every
 * `[env.*]`) are what deploys. They belong in .dev.vars, which `switchyard dev` reads and `wrangler deploy` never
 * uploads. One problem per occurrence, at its line and column in wrangler.toml.
 */
export function devAuthProblems(wranglerText: string, file = 'wrangler.toml'): SourcedProblem[] {
  const problems: SourcedProblem[] = [];
  const lines = wranglerText.split('\n');
  let table = '';
  lines.forEach((line, i) => {
    const code = line.replace(/#.*$/, '');
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?/.exec(code);
    if (header) table = header[1]!;
    for (const name of DEV_VARS) {
      // A key: at the start of the line, in an inline table, or dotted (`vars.NAME`), bare or quoted.
      const at = new RegExp(`(^\\s*|[{,]\\s*|\\.)(["']?)${name}\\2\\s*=`).exec(code);
      if (!at) continue;
      const column = at.index + at[1]!.length + at[2]!.length + 1;
      const where = table === '' ? 'the top level' : `[${table}]`;
      problems.push({
        file,
        line: i + 1,
        column,
        path: [],
        message: `${name} (the local dev issuer, tokens from "${DEV_ISSUER}") must not be set in wrangler.toml (${where}): it would reach a deployed environment. Put it in .dev.vars; \`switchyard dev\` sets it for you`,
      });
    }
  });
  return problems;
}
