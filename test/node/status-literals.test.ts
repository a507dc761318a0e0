/**
 * The event store owns the status vocabulary (runtime/store/status.ts): outside runtime/store/, code says
 * `EventStatus.applied`, never `'applied'`, so renaming or adding a status is one edit and a typo is a type error.
 * This reads the sources (no imports of them, no Worker): a quoted status word in runtime/, cli/, worker/, bench/ or
 * the dashboard's page fails, named by file:line. Tests keep their literals, beside their modules too: they check
 * the wire format.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EffectStatus, EventStatus, Stage } from '../../runtime/store/status.ts';
import { ROOT } from '../support/project.ts';

const WORDS = [...new Set([...Object.values(EventStatus), ...Object.values(EffectStatus), ...Object.values(Stage)])];
const SCANNED = ['runtime', 'cli', 'worker', 'bench'];
const OWNER = 'runtime/store/';
const SOURCE = /\.(ts|js|mjs|html)$/;
/** A test beside its module (runtime/operations/charts.test.ts): a test, so it keeps its literals. */
const TEST = /\.test\.ts$/;

/**
 * Where a status word is quoted and is not a status: the file, a piece of the line that pins the use, and why.
 * Keep it short; prefer a name that is not a status word over a new line here.
 */
const ALLOWED: { files: string[]; text: string; why: string }[] = [
  {
    files: ['runtime/lib/platform.ts', 'runtime/edge/routes.ts', 'runtime/manifest/request-analytics.ts'],
    text: "'sent'",
    why: "a queue counter (the `queue.sent` usage metric stored in D1, paired with `consumed`), not an effect's status",
  },
  {
    files: ['runtime/lib/telemetry.ts'],
    text: "'analytics.dropped': ['route', 'dropped']",
    why: "a log record's outcome: an analytics event the route dropped (never stored), not an effect's status",
  },
  {
    files: ['runtime/lib/platform.ts', 'cli/lib/budget.ts', 'runtime/manifest/decide.ts'],
    text: "'queued'",
    why: "a bookkeeping path through the pipeline ('queued' or 'direct'): the decision and the budget report",
  },
  {
    files: ['runtime/consumer/effects.ts'],
    text: "reason: 'effect'",
    why: "a dead letter's reason column (the effect's delivery failed); its stage is set by the store",
  },
  {
    files: ['runtime/operations/admin.ts'],
    text: "c.req.query('replayed')",
    why: 'the name of an admin API query parameter (`replayed=true`, the older spelling of `view=all`)',
  },
  {
    files: ['cli/lib/fake-providers.ts'],
    text: "status: 'queued', to:",
    why: "Twilio's own message status in its API's answer, which the fake imitates",
  },
  {
    files: ['runtime/operations/replay.ts'],
    text: "ReplayResult['skipped']",
    why: "a replay result's field: the dead letters asked for that were not replayed (not the event status `skipped`)",
  },
  {
    files: ['runtime/manifest/sections/integrations.ts'],
    text: '(`skipped` when no step of any handler ran)',
    why: "the Handler's `if` description names the status it leads to, for the schema's readers",
  },
  {
    files: ['cli/lib/replay-plan.ts'],
    text: "'effect'",
    why: 'the kind of a replay plan item (an effect or an enqueued message), shown by `switchyard plan`',
  },
  { files: ['bench/run.ts'], text: "', await run", why: 'benchmark names (the ingest and consumer benches)' },
  {
    files: ['bench/foundation.ts'],
    text: "of('deferred')",
    why: "a measured phase's name (the deferred part of the compile)",
  },
];

/** A quoted word (`'applied'`, `"applied"`, `` `applied` ``), in a string or SQL text; in HTML, element text too. */
const pattern = (html: boolean) =>
  new RegExp(`(['"\`])(${WORDS.join('|')})\\1${html ? `|>(${WORDS.join('|')})<` : ''}`, 'g');

/** The line without its comment (a `// ` comment, or a line inside a block comment). */
function code(line: string): string {
  const t = line.trim();
  if (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*') || t.startsWith('<!--')) return '';
  return line.replace(/\s\/\/\s.*$/, '');
}

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' || `${path}/` === OWNER ? [] : files(path);
    return SOURCE.test(e.name) && !TEST.test(e.name) ? [path] : [];
  });
}

/** Every quoted status word outside the store, as `file:line: 'word' (the line)`. */
function statusLiterals(): string[] {
  const found: string[] = [];
  for (const file of SCANNED.flatMap(files)) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const text = code(line);
      for (const m of text.matchAll(pattern(file.endsWith('.html')))) {
        if (ALLOWED.some((a) => a.files.includes(file) && text.includes(a.text))) continue;
        found.push(`${relative(ROOT, join(ROOT, file))}:${i + 1}: ${m[0]}  (${text.trim().slice(0, 120)})`);
      }
    });
  }
  return found;
}

describe('the status vocabulary', () => {
  it('is spelled only in runtime/store/: no quoted status outside it', () => {
    expect(statusLiterals()).toEqual([]);
  });

  it('is found where it is spelled (the check sees SQL text, unions and the page markup)', () => {
    expect(code(`db.prepare("UPDATE events SET status = 'applied'")`).match(pattern(false))).toEqual(["'applied'"]);
    expect(code(`type T = 'ingest' | 'consumer';`).match(pattern(false))).toEqual(["'ingest'", "'consumer'"]);
    expect(code('<option>dead_lettered</option>').match(pattern(true))).toEqual(['>dead_lettered<']);
    expect(code(`  // a comment saying 'applied'`)).toBe('');
  });

  it('allows only lines that still exist', () => {
    const stale = ALLOWED.flatMap((a) =>
      a.files
        .filter((file) => !readFileSync(join(ROOT, file), 'utf8').includes(a.text))
        .map((file) => `${file}: ${a.text}`),
    );
    expect(stale).toEqual([]);
  });
});
