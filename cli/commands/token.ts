/**
 * `switchyard token [--provider NAME] [--sub ID] [--claim name=value]… [--ttl 1h] [--env NAME] [--manifest FILE]`:
 * mints a token from the local dev issuer (`switchyard-dev`) standing in for one of the manifest's auth providers,
 * for trying JWT-protected routes and the admin API offline under `switchyard dev`. The token alone goes to
 * stdout (`TOKEN=$(npx switchyard token …)`). A deployed Worker never accepts it (runtime/edge/dev-auth.ts).
 */
import { parseArgs } from 'node:util';
import { defaultRegistry } from '../../worker/registry.ts';
import { build } from '../../runtime/component/define.ts';
import { parseDuration } from '../../runtime/lib/duration.ts';
import { parseManifest } from '../../runtime/manifest/load.ts';
import { resolveWithProviders } from '../lib/catalog.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { ensureDevAuthKey, mintDevToken } from '../lib/dev-auth.ts';
import { projectFor, readText } from '../lib/project.ts';

export const TOKEN_USAGE = 'token [--provider NAME] [--sub ID] [--claim name=value]... [--ttl 1h] [--env NAME]  mint a local dev token (switchyard dev only)';

/** `name=value`; a value that reads as a JSON array or object (roles lists) is parsed, anything else is a string. */
export function parseClaim(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--claim ${JSON.stringify(text)}: expected name=value`);
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (/^[[{]/.test(value)) {
    try {
      return [name, JSON.parse(value)];
    } catch {
      throw new Error(`--claim ${name}: ${JSON.stringify(value)} is not valid JSON`);
    }
  }
  return [name, value];
}

export async function tokenCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        provider: { type: 'string' },
        sub: { type: 'string', default: 'user_dev' },
        claim: { type: 'string', multiple: true, default: [] },
        ttl: { type: 'string', default: '1h' },
        env: { type: 'string', default: 'default' },
        manifest: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`switchyard token: ${(error as Error).message}\nusage: switchyard ${TOKEN_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(`usage: switchyard ${TOKEN_USAGE}`);
    return 0;
  }
  const project = projectFor(values.manifest);
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  if (parsed.problems.length) {
    console.error(`${project.manifest} does not parse; run switchyard validate`);
    return 1;
  }
  const manifest = resolveWithProviders(parsed.value, values.env) as Manifest;
  const providers = Object.keys(manifest.auth ?? {});
  const provider = values.provider ?? (providers.length === 1 ? providers[0] : undefined);
  const spec = provider ? (manifest.auth ?? {})[provider] : undefined;
  if (!provider || !spec) {
    console.error(`switchyard token: ${provider ? `no auth provider ${JSON.stringify(provider)} in the manifest` : 'name one with --provider'} (auth providers: ${providers.join(', ') || 'none'})`);
    return 2;
  }
  let claims: Record<string, unknown>;
  let ttlSeconds: number;
  try {
    claims = Object.fromEntries(values.claim.map(parseClaim));
    ttlSeconds = Math.round(parseDuration(values.ttl) / 1000);
  } catch (error) {
    console.error(`switchyard token: ${(error as Error).message}`);
    return 2;
  }
  const component = defaultRegistry.auth.get(spec.type);
  const audience = component ? build(component, spec, undefined).audience : undefined;
  const key = await ensureDevAuthKey(project);
  console.log(await mintDevToken(key, { provider, sub: values.sub, claims, ttlSeconds, ...(audience !== undefined ? { audience } : {}) }));
  return 0;
}
