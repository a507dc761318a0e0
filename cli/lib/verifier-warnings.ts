/**
 * `validate` warnings about what a verifier leaves unauthenticated, and about `provider:` overrides that weaken
 * what the provider's preset checks. Warnings, not errors: each can be what the operator means, and says why not.
 */
import type { Registry } from '../../runtime/component/registry.ts';
import { optionsOf } from '../../runtime/component/define.ts';
import { fieldsOf, type CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { parseDuration } from '../../runtime/lib/duration.ts';
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Integrations whose verifier authenticates the sender but not the body, or signs fields but not the body. */
export function unsignedBodyWarnings(manifest: unknown, registry: Registry): ManifestProblem[] {
  if (!isObject(manifest) || !isObject(manifest.integrations)) return [];
  return Object.entries(manifest.integrations).flatMap(([name, spec]) => {
    if (!isObject(spec) || !isObject(spec.verifier) || typeof spec.verifier.type !== 'string') return [];
    const type = spec.verifier.type;
    const adapter = registry.verifiers.get(type);
    const path = ['integrations', name, 'verifier'];
    let authenticates: 'body' | 'fields' | 'sender' = 'body';
    try {
      authenticates = adapter?.authenticates?.(optionsOf(adapter, spec.verifier)) ?? 'body';
    } catch {
      return []; // bad options: compile reports them
    }
    if (authenticates === 'sender')
      return [
        {
          path,
          message: `the ${type} verifier checks a credential, not a signature: the body is not authenticated, so whoever sees one request (a log, a proxy) can send any body with it; only TLS protects the payload`,
        },
      ];
    return authenticates === 'body'
      ? []
      : [
          {
            path,
            message: `the ${type} signature does not cover the body, only the fields it names: anyone holding one captured request can send another payload under its signature within its tolerance; deduplicate on the signed fields (e.g. the token) and keep the tolerance short`,
          },
        ];
  });
}

const PLACEHOLDER = /\{([^{}]+)\}/g;
const placeholders = (template: unknown) =>
  new Set(
    typeof template === 'string' ? [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!.toLowerCase()) : ['body'],
  );
const HASH_STRENGTH: Record<string, number> = { sha1: 1, sha256: 2, sha512: 3 };
const seconds = (d: unknown) => (typeof d === 'string' ? parseDuration(d) / 1000 : undefined);

/**
 * What an integration's own keys change in its provider's preset, where the change checks less: a removed key, a
 * wider tolerance, a weaker hash, a template that signs fewer parts, a replaced scheme, an unverified handshake.
 * Secret names, rotation lists and narrower settings pass quietly.
 */
export function presetOverrideWarnings(
  manifest: unknown,
  catalog: ReadonlyMap<string, CatalogEntry>,
): ManifestProblem[] {
  if (!isObject(manifest) || !isObject(manifest.integrations)) return [];
  const out: ManifestProblem[] = [];
  for (const [name, spec] of Object.entries(manifest.integrations)) {
    const entry = isObject(spec) && typeof spec.provider === 'string' ? catalog.get(spec.provider) : undefined;
    if (!entry || !isObject(spec)) continue;
    const at = (...path: string[]) => ['integrations', name, ...path];
    const preset = fieldsOf(entry.verifier);
    const mine = spec.verifier;
    if (isObject(mine)) {
      if (mine.type !== undefined && mine.type !== preset.type) {
        out.push({
          path: at('verifier', 'type'),
          message: `replaces the provider's ${preset.type} verifier (${entry.docs}) with ${String(mine.type)}: none of the preset's checks apply`,
        });
      } else {
        for (const [key, value] of Object.entries(mine)) {
          const was = preset[key];
          if (value === null && was !== undefined)
            out.push({
              path: at('verifier', key),
              message: `removes the provider's ${key} (${JSON.stringify(was)}): the verifier checks less than ${entry.title} signs`,
            });
          else if (key === 'tolerance' && (seconds(value) ?? 0) > (seconds(was) ?? 300))
            out.push({
              path: at('verifier', key),
              message: `${String(value)} widens the provider's ${String(was ?? '5m')}: a captured request can be replayed for that long`,
            });
          else if (
            key === 'algorithm' &&
            (HASH_STRENGTH[String(value)] ?? 0) < (HASH_STRENGTH[String(was ?? 'sha256')] ?? 0)
          )
            out.push({
              path: at('verifier', key),
              message: `${String(value)} is weaker than the provider's ${String(was ?? 'sha256')}`,
            });
          else if (key === 'signed') {
            const lost = [...placeholders(was)].filter((p) => !placeholders(value).has(p));
            if (lost.length)
              out.push({
                path: at('verifier', key),
                message: `signs less than the provider's template ${JSON.stringify(was ?? '{body}')}: ${lost.map((p) => `{${p}}`).join(', ')} no longer covered`,
              });
          } else if (
            key === 'algorithms' &&
            Array.isArray(value) &&
            Array.isArray(was) &&
            value.some((a) => !was.includes(a))
          )
            out.push({
              path: at('verifier', key),
              message: `accepts algorithms the provider does not use (${value.filter((a) => !was.includes(a)).join(', ')})`,
            });
        }
      }
    }
    const handshake = spec.handshake;
    if (
      isObject(handshake) &&
      handshake.verify === false &&
      entry.handshake &&
      fieldsOf(entry.handshake).verify !== false &&
      (handshake.type === undefined || handshake.type === entry.handshake.type)
    ) {
      out.push({
        path: at('handshake', 'verify'),
        message: `answers the provider's ${entry.handshake.type} handshake without verifying it, though ${entry.title} signs it: anyone can have it answered`,
      });
    }
  }
  return out;
}
