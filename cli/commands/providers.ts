/**
 * `switchyard providers [--json]` lists the catalog (name, scheme, handshake, how it was verified);
 * `switchyard providers <name>` shows what `provider: <name>` sets, the secrets it reads and where to find them.
 */
import { stringify } from 'yaml';
import { closest } from '../../runtime/language/closest.ts';
import type { CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, JSON_FLAG, parseCommand } from '../lib/command.ts';
import { loadCatalog } from '../lib/catalog.ts';
import { schemeSummary, verifiedBy } from '../lib/providers-table.ts';
import { paint } from '../lib/style.ts';

export const providersSpec = defineCommand({
  name: 'providers',
  summary: 'list the provider catalog, or show what `provider: <name>` sets',
  description: `Without a name, lists the provider catalog (catalog/*.yaml): each provider's signature scheme, handshake,
and how its preset was verified (the provider's SDK, its published code, or a vector from its docs). With a name,
shows what provider: <name> sets in an integration (verifier, event extraction, handshake), the secrets it reads
and where to find each, its sample, and its backfill sources.`,
  arguments: [{ name: '[<name>]', description: 'a provider of the catalog' }],
  flags: { json: JSON_FLAG },
  examples: [
    { command: 'switchyard providers', does: 'the whole catalog' },
    { command: 'switchyard providers stripe', does: 'what provider: stripe sets, and the secret it reads' },
  ],
});

export async function providersCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(providersSpec, args);
  const [name, extra] = positionals;
  if (extra) throw new UsageError(`unexpected argument ${extra}`);
  const catalog = loadCatalog();
  for (const p of catalog.problems) console.error(`${p.file}:${p.line}:${p.column}: ${p.message}`);
  const entries = [...catalog.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (name === undefined) {
    if (values.json)
      console.log(
        JSON.stringify(
          entries.map((e) => ({
            name: e.name,
            title: e.title,
            scheme: e.verifier.type,
            handshake: e.handshake?.type ?? null,
            verified_by: e.verified_by,
            docs: e.docs,
          })),
          null,
          2,
        ),
      );
    else console.log(listing(entries));
    return catalog.problems.length ? 1 : 0;
  }
  const entry = catalog.entries.get(name);
  if (!entry) {
    const guess = closest(name, [...catalog.entries.keys()]);
    throw new UsageError(
      `no provider ${JSON.stringify(name)} in the catalog${guess ? ` (did you mean "${guess}"?)` : ''}; \`switchyard providers\` lists them`,
    );
  }
  console.log(values.json ? JSON.stringify(entry, null, 2) : detail(entry));
  return 0;
}

/** One line per provider, in aligned columns. */
function listing(entries: CatalogEntry[]): string {
  const rows = entries.map((e) => [
    e.name,
    schemeSummary(e).replace(/`/g, ''),
    e.handshake?.type ?? '-',
    verifiedBy(e).replace(/`/g, ''),
  ]);
  const head = ['provider', 'scheme', 'handshake', 'verified by'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [
    paint('bold', line(head)),
    ...rows.map(line),
    '',
    `${entries.length} providers; \`switchyard providers <name>\` shows what one sets.`,
  ].join('\n');
}

/** What `provider: <name>` sets, as the YAML it stands for, with its secrets and where to find them. */
function detail(e: CatalogEntry): string {
  const block = (title: string, value: unknown) =>
    `${paint('bold', title)}\n${stringify(value, { indent: 2 }).trimEnd().replace(/^/gm, '  ')}`;
  const parts = [
    `${paint('bold', e.title)} (${e.name})`,
    `docs: ${e.docs}`,
    `verified by: ${verifiedBy(e).replace(/`/g, '')}${e.sdk?.note ? `: ${e.sdk.note}` : ''}`,
    '',
    paint('bold', 'secrets (set each with `npx wrangler secret put NAME`, and in .dev.vars locally)'),
    ...Object.entries(e.secrets).map(([n, where]) => `  ${n}: ${where}`),
    '',
    block('use it', {
      integrations: {
        [e.name.replace(/-/g, '_')]: { provider: e.name, route: `/webhooks/${e.name}`, queue: 'events' },
      },
    }),
    '',
    block('what it sets (override any key in the integration)', {
      ...(e.format ? { format: e.format } : {}),
      verifier: e.verifier,
      event: e.event,
      ...(e.handshake ? { handshake: e.handshake } : {}),
    }),
    '',
    `sample: ${e.sample.type} (\`switchyard send\` uses it when samples/<integration>/ has none)`,
  ];
  if (e.sources) {
    parts.push(
      '',
      paint(
        'bold',
        'backfill sources (`switchyard backfill`, `reconcile`; credentials from your shell, never the Worker)',
      ),
    );
    for (const [name, s] of Object.entries(e.sources))
      parts.push(`  ${name}: ${s.event.type} from ${s.url}${s.reconcile ? ` (reconciles ${s.reconcile.table})` : ''}`);
  }
  if (e.notes) parts.push('', paint('bold', 'notes'), e.notes.trim().replace(/^/gm, '  '));
  return parts.join('\n');
}
