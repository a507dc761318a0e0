/**
 * `switchyard token [--provider NAME] [--sub ID] [--claim name=value]… [--ttl 1h] [--env NAME] [--manifest FILE]`:
 * mints a token from the local dev issuer (`switchyard-dev`) standing in for one of the manifest's auth providers,
 * for trying JWT-protected routes and the admin API offline under `switchyard dev`. The token alone goes to
 * stdout (`TOKEN=$(npx switchyard token …)`). A deployed Worker never accepts it (runtime/edge/dev-auth.ts).
 */
import { UsageError } from '../lib/args.ts';
import { defineCommand, MANIFEST_FLAG, parseCommand } from '../lib/command.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { build } from '../../runtime/component/define.ts';
import { parseDuration } from '../../runtime/lib/duration.ts';
import { parseManifest } from '../../runtime/manifest/load.ts';
import { resolveWithProviders } from '../lib/catalog.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { ensureDevAuthKey, mintDevToken } from '../lib/dev-auth.ts';
import { projectFor, readText } from '../lib/project.ts';

export const tokenSpec = defineCommand({
  name: 'token',
  summary: 'mint a token from the local dev issuer (npm run dev only)',
  description: `Mints a token from the local dev issuer (switchyard-dev), standing in for one of the manifest's auth
providers, to try JWT-protected routes and the admin API offline under switchyard dev. Only the token goes to
stdout (TOKEN=$(npx switchyard token ...)). A deployed Worker never accepts it: the issuer answers on loopback only,
and validate refuses its variables in wrangler.toml.`,
  flags: {
    provider: {
      type: 'string',
      value: 'NAME',
      defaultText: "the manifest's only auth provider",
      description: 'the auth provider (a key under auth:) the token stands in for',
    },
    sub: { type: 'string', value: 'ID', default: 'user_dev', description: "the token's subject (the user id)" },
    claim: {
      type: 'string',
      value: 'NAME=VALUE',
      multiple: true,
      default: [],
      description: 'a claim to add; a value that reads as a JSON array or object (a roles list) is parsed',
    },
    ttl: { type: 'string', value: 'DURATION', default: '1h', description: 'how long the token is valid (30s, 5m, 1h)' },
    env: {
      type: 'string',
      value: 'NAME',
      default: 'default',
      description: "the manifest's environment whose auth providers are read",
    },
    manifest: MANIFEST_FLAG,
  },
  examples: [
    {
      command: 'TOKEN=$(npx switchyard token --provider clerk --sub user_1 --claim \'roles=["admin"]\')',
      does: 'a token for user_1 with an admin role',
    },
  ],
});

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
    ({ values } = parseCommand(tokenSpec, args));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`switchyard token: ${error.message}\nrun \`switchyard token --help\` for its flags`);
    return 2;
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
  const spec = provider ? manifest.auth?.[provider] : undefined;
  if (!provider || !spec) {
    console.error(
      `switchyard token: ${provider ? `no auth provider ${JSON.stringify(provider)} in the manifest` : 'name one with --provider'} (auth providers: ${providers.join(', ') || 'none'})`,
    );
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
  console.log(
    await mintDevToken(key, {
      provider,
      sub: values.sub,
      claims,
      ttlSeconds,
      ...(audience !== undefined ? { audience } : {}),
    }),
  );
  return 0;
}
