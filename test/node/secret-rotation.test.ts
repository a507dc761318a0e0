/**
 * Rotation degrades, it does not fail: every verifier whose secret option takes a list verifies with the names that
 * are set, whichever of them is unset, and refuses as misconfigured (MissingSecretError naming every name) only when
 * none is. Checked on each catalog preset, so every scheme a provider uses is covered.
 */
import { describe, expect, it } from 'vitest';
import { MissingSecretError } from '../../runtime/component/context.ts';
import { build } from '../../runtime/component/define.ts';
import { adapterOf, catalog, secretsFor, signedSample, verdict } from '../support/catalog.ts';

const { entries } = catalog();

/** The preset's options with each list-taking secret option as `[<unset name>, ...its names]`, and those unset names. */
function withUnsetRotation(
  adapterSpec: Record<string, { schema: Record<string, unknown> }>,
  options: Record<string, unknown>,
): { options: Record<string, unknown>; unset: string[] } {
  const out = { ...options };
  const unset: string[] = [];
  for (const [key, f] of Object.entries(adapterSpec)) {
    const type = f.schema.type;
    if (f.schema['x-secret'] !== true || !Array.isArray(type) || !type.includes('array') || out[key] === undefined)
      continue;
    const name = `ROTATION_UNSET_${key.toUpperCase()}`;
    out[key] = [name, ...([] as string[]).concat(out[key] as string | string[])];
    unset.push(name);
  }
  return { options: out, unset };
}

describe.each([...entries.values()].map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
  const { adapter, options } = adapterOf(entry);
  const rotated = withUnsetRotation(adapter.spec as Record<string, { schema: Record<string, unknown> }>, options);
  if (!rotated.unset.length) return;

  it('verifies with the set secret when another name of its list is not set', async () => {
    const now = Date.now();
    const verifier = build(adapter, rotated.options, undefined);
    const { env, signing } = await secretsFor(entry);
    for (const name of rotated.unset) expect(env[name]).toBeUndefined();
    const sample = await signedSample(entry, now, signing);
    expect(await verdict(verifier, sample, env, now)).toBe('accepted');
    // Still a verifier: a request under another secret is refused, not waved through.
    const other = await secretsFor(entry);
    expect(await verdict(verifier, await signedSample(entry, now, other.signing), env, now)).not.toBe('accepted');
  });

  it('is misconfigured only when no name of the list is set, and says which names', async () => {
    const now = Date.now();
    const verifier = build(adapter, rotated.options, undefined);
    const { env, signing } = await secretsFor(entry);
    const sample = await signedSample(entry, now, signing);
    const listed = Object.entries(rotated.options).filter(
      ([, v]) => Array.isArray(v) && rotated.unset.includes((v as string[])[0]!),
    );
    const [, names] = listed[listed.length - 1]! as [string, string[]];
    const bare = Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)));
    const refused = await verdict(verifier, sample, bare, now).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MissingSecretError);
    expect((refused as MissingSecretError).variables).toEqual(names);
  });
});
