/**
 * The cells of the conformance matrix (test/worker/conformance-matrix.test.ts, test/node/conformance-matrix.test.ts):
 * what is proven for each catalog provider and each integration of the shipped manifests, which cells apply to a
 * scheme, and the gaps known today. The README's provider table states each row's cells from this same module
 * (cli/lib/providers-table.ts), so the table cannot claim what the matrix does not check. Worker-safe.
 */
import { defaultRegistry } from '../../worker/registry.ts';
import { optionsOf } from '../../runtime/component/define.ts';
import type { CatalogEntry } from '../../runtime/manifest/catalog.ts';

/** What one cell proves. */
export const CELLS = {
  runtime:
    "the Worker accepts the sample signed the provider's way and refuses it unsigned (401: no event and nothing queued, only its entry in the capped refusal log)",
  tamper:
    'a sample with one signed byte changed is refused (401: no event and nothing queued, only its entry in the capped refusal log); n/a when the scheme checks a credential, not a signature of the body',
  stale:
    'a stale timestamp is refused (401: no event and nothing queued, only its entry in the capped refusal log); n/a when the scheme signs no timestamp',
  ids: 'two distinct samples are two events with two ids; the same sample twice is one event (the second answer `duplicate`, no row written)',
  plan: '`plan --budget` predicts the path, the D1 rows written and the queue operations the Worker measured for the sample',
  send: "`switchyard send` signs the catalog sample and the integration's verifier accepts it; n/a when only the provider holds the signing key",
  test: "`switchyard test` signs a case that names the sample (`sample:`, the catalog's when no samples/ file has it) and the runtime applies it; a provider-keyed scheme is signed with a key pair the runner makes",
} as const;

export type Cell = keyof typeof CELLS;
export const CELL_NAMES = Object.keys(CELLS) as Cell[];

/**
 * A cell that fails on today's code for a finding another change is fixing: asserted as an expected failure by the
 * matrix, so an entry that starts passing fails the test until it is removed here. `provider` is the catalog name
 * (every integration using that preset shares the gap), or `<manifest> <integration>` for one without a preset.
 */
export interface KnownGap {
  provider: string;
  cell: Cell;
  /** Only this row (`examples/more-providers.yaml shopify`): the gap is in a sample of that manifest, not the preset. */
  row?: string;
  issue: string;
}

export const KNOWN_GAPS: readonly KnownGap[] = [];

/** The gap recorded for this provider's cell (on this row, when the gap names one), if any. */
export const gapOf = (provider: string | undefined, cell: Cell, row?: string): KnownGap | undefined =>
  provider === undefined
    ? undefined
    : KNOWN_GAPS.find((g) => g.provider === provider && g.cell === cell && (g.row === undefined || g.row === row));

/** A verifier block's adapter and parsed options (undefined for an unknown type). */
function schemeOf(verifier: { type: string }) {
  const adapter = defaultRegistry.verifiers.get(verifier.type);
  if (!adapter) return undefined;
  const { type: _type, ...options } = verifier as { type: string } & Record<string, unknown>;
  return { adapter, options: optionsOf(adapter, options) };
}

/**
 * Whether a cell applies to a verifier block: a tampered body is caught only by a signature (not a credential), a
 * stale request only by a signed timestamp; `send` signs only with a shared secret, `switchyard test` also with a key
 * pair of its own.
 */
export function applies(verifier: { type: string }, cell: Cell): boolean {
  const scheme = schemeOf(verifier);
  if (!scheme) return false;
  if (cell === 'tamper') return (scheme.adapter.authenticates?.(scheme.options) ?? 'body') !== 'sender';
  if (cell === 'stale') return scheme.adapter.timestampTolerance?.(scheme.options) !== undefined;
  if (cell === 'send') return !scheme.adapter.keyPair && Boolean(scheme.adapter.sign || scheme.adapter.signBody);
  if (cell === 'test') return Boolean(scheme.adapter.sign || scheme.adapter.signBody);
  return true;
}

/** Each cell of a provider's row: checked, not applicable, or a known gap. */
export function cellsFor(entry: CatalogEntry): Record<Cell, 'pass' | 'n/a' | 'gap'> {
  return Object.fromEntries(
    CELL_NAMES.map((cell) => [cell, !applies(entry.verifier, cell) ? 'n/a' : gapOf(entry.name, cell) ? 'gap' : 'pass']),
  ) as Record<Cell, 'pass' | 'n/a' | 'gap'>;
}

/** The README's words for a row: `runtime ✓ stale n/a ids ✓ plan ✓ send ✓ test ✗`. */
export function matrixSummary(entry: CatalogEntry): string {
  const cells = cellsFor(entry);
  return CELL_NAMES.map((cell) => `${cell} ${cells[cell] === 'pass' ? '✓' : cells[cell] === 'gap' ? '✗' : 'n/a'}`).join(
    ' ',
  );
}
