/** What `switchyard dev` shows of wrangler's output, and its one line for the local migrations. */
import { describe, expect, it } from 'vitest';
import { wranglerOutput } from './dev-output.ts';
import { migrationSummary } from './dev-migrations.ts';

const filter = (text: string, chunk = 17) => {
  const lines: string[] = [];
  const ready: (string | undefined)[] = [];
  const out = wranglerOutput({ print: (l) => lines.push(l), ready: (url) => ready.push(url) });
  for (let i = 0; i < text.length; i += chunk) out.write(text.slice(i, i + chunk));
  out.end();
  return { lines, ready };
};

const bindings = (secrets: number) => `Your Worker has access to the following bindings:
Binding                                                 Resource                  Mode
env.KV (00000000000000000000000000000000)               KV Namespace              local
env.EVENTS_QUEUE (switchyard-events)                    Queue                     local
env.EVENTS_DLQ (switchyard-events-dlq)                  Queue                     local
env.DB (switchyard)                                     D1 Database               local
env.APP_URL ("http://localhost:8811")                   Environment Variable      local
${Array.from({ length: secrets }, (_, i) => `env.SECRET_${i} ("(hidden)")                   Environment Variable      local`).join('\n')}

`;

// wrangler 4.156's start, offline, as it printed it here (trimmed to a few bindings).
const start = `
 ⛅️ wrangler 4.156.2
───────────────────────────────────────────────
Using secrets defined in .dev.vars
${bindings(3)}[wrangler:warn] Unable to fetch the \`Request.cf\` object! Falling back to a default placeholder...
Error: getaddrinfo ENOTFOUND workers.cloudflare.com
    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:123:26)
⎔ Starting local server...
\u001b[33m▲ \u001b[43;33m[\u001b[43;30mWARNING\u001b[43;33m]\u001b[0m \u001b[1mScheduled Workers are not automatically triggered during local development.\u001b[0m

  To manually trigger a scheduled event, run:
    curl "http://localhost:8811/cdn-cgi/local/scheduled"
  For more details, see https://developers.cloudflare.com/workers/configuration/cron-triggers/#test-cron-triggers-locally


[wrangler:warn] Unable to fetch the \`Request.cf\` object! Falling back to a default placeholder...
Error: getaddrinfo ENOTFOUND workers.cloudflare.com
    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:123:26)
⎔ Connection status updated
${bindings(3)}[wrangler:info] Ready on http://localhost:8811
`;

describe('wranglerOutput', () => {
  it('folds the bindings tables, the cron notice and the offline stacks, and says when the server is ready', () => {
    const { lines, ready } = filter(start);
    expect(lines).toEqual([
      '',
      ' ⛅️ wrangler 4.156.2',
      'Using secrets defined in .dev.vars',
      '[switchyard] bindings: KV Namespace, 2 × Queue, D1 Database; 4 variables and secrets',
      '[switchyard] workers.cloudflare.com did not answer: request.cf holds placeholder values',
      '⎔ Starting local server...',
      '[wrangler:info] Ready on http://localhost:8811',
    ]);
    expect(ready).toEqual(['http://localhost:8811']);
  });

  it("passes the Worker's lines and requests, shows a changed bindings table again, and folds workerd's DNS errors once", () => {
    const dns = `\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m \u001b[1me = rust/worker/ffi.rs:110: failed: failed to lookup address information: Name or service not known\u001b[0m

  stack: /x/workerd@383c3f9 /x/workerd@28a3c60


`;
    const log = '{"level":"info","kind":"effect.retry","attempt":1}';
    const { lines, ready } = filter(
      `${log}\n${dns}[wrangler:info] POST /webhooks/stripe 200 OK (226ms)\n${dns}${log}\n${bindings(3)}🪵  Logs were written to "/root/.config/.wrangler/logs/wrangler.log"\n${bindings(4)}⎔ Local server updated and ready\n`,
    );
    expect(lines).toEqual([
      log,
      '[switchyard] no DNS here (offline?): outbound calls fail, and each is retried by its policy (see effect.retry lines)',
      '[wrangler:info] POST /webhooks/stripe 200 OK (226ms)',
      log,
      '[switchyard] bindings: KV Namespace, 2 × Queue, D1 Database; 4 variables and secrets',
      '[switchyard] bindings: KV Namespace, 2 × Queue, D1 Database; 5 variables and secrets',
      '⎔ Local server updated and ready',
    ]);
    expect(ready).toEqual([undefined]);
  });
});

describe('migrationSummary', () => {
  const table = (names: string[], status?: string) =>
    `┌──┐\n│ name${status ? ' │ status │' : ' │'}\n${names.map((n) => `├──┤\n│ ${n} │${status ? ` ${status} │` : ''}`).join('\n')}\n└──┘\n`;
  it('says in one line how many migrations it applied, first and last, whatever wrangler printed', () => {
    const names = ['0001_a.sql', '0002_b.sql', '0003_c.sql'];
    const output = `Migrations to be applied:\n${table(names)}? About to apply 3 migration(s)\n${names.map(() => table(names, '✅')).join('')}`;
    expect(migrationSummary(output)).toEqual({
      line: '[switchyard] local D1: applied 3 migrations (0001_a.sql … 0003_c.sql)',
      applied: names,
    });
    expect(
      migrationSummary(`Migrations to be applied:\n${table(['0022_new.sql'])}${table(['0022_new.sql'], '✅')}`).line,
    ).toBe('[switchyard] local D1: applied 1 migration (0022_new.sql)');
    expect(migrationSummary('✅ No migrations to apply!\n')).toEqual({
      line: '[switchyard] local D1: no new migrations',
      applied: [],
    });
  });
});
