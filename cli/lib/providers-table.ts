/**
 * The provider table (docs/providers.md), generated from the catalog so it never drifts: `switchyard types` writes it between
 * the markers and `switchyard types --check` (part of `npm run check`) fails when it is stale.
 */
import { fieldsOf, type CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { matrixSummary } from './conformance.ts';

export const TABLE_START = '<!-- providers:start (generated from catalog/ by `npm run types`; do not edit) -->';
export const TABLE_END = '<!-- providers:end -->';

/** One line naming a scheme the way a reader recognises it: the type and where the signature is. */
export function schemeSummary(entry: CatalogEntry): string {
  const v = fieldsOf(entry.verifier);
  const where =
    typeof v.header === 'string'
      ? v.header
      : typeof v.signature_field === 'string'
        ? `body ${v.signature_field}`
        : undefined;
  const details = [
    v.type === 'hmac' ? `${v.algorithm ?? 'sha256'} ${v.encoding ?? 'hex'}` : undefined,
    where ? `\`${where}\`` : undefined,
    v.timestamp_header || v.timestamp_field || v.timestamp_key || v.signature_format === 'positional'
      ? 'timestamped'
      : undefined,
  ].filter(Boolean);
  return details.length ? `${v.type} (${details.join(', ')})` : String(v.type);
}

/** `github:<owner>/<repo>` packages are the provider's own code ported into test/catalog/sdk/, not an npm SDK. */
export function verifiedBy(entry: CatalogEntry): string {
  const source = entry.sdk?.package ?? '?';
  // `github:<owner>/<repo>`: the provider's own published code, ported, where it ships no npm SDK that checks.
  if (entry.verified_by === 'sdk' && source.startsWith('github:'))
    return `provider's code (\`${source.slice('github:'.length)}\`)`;
  if (entry.verified_by === 'sdk') return `SDK (\`${source}\`)`;
  return entry.verified_by === 'doc-vector' ? 'doc vector' : 'spec';
}

/** The markdown table of every provider, sorted by name; `matrix` is what the conformance matrix proves for it. */
export function providersTable(entries: Iterable<CatalogEntry>): string {
  const rows = [...entries]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(
      (e) =>
        `| [${e.title}](${e.docs}) | \`${e.name}\` | ${schemeSummary(e)} | ${e.handshake ? `\`${e.handshake.type}\`` : ''} | ${verifiedBy(e)} | ${matrixSummary(e)} |`,
    );
  return [
    '| provider | `provider:` | scheme | handshake | verified by | matrix |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** A page with the table between the markers replaced; undefined when the markers are missing. */
export function withProvidersTable(readme: string, entries: Iterable<CatalogEntry>): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return `${readme.slice(0, start + TABLE_START.length)}\n${providersTable(entries)}\n${readme.slice(end)}`;
}
