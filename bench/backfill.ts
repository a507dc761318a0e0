/**
 * The backfill measurement: 5,000 fake Stripe subscriptions into `npm run dev` (a fresh local state), interrupted
 * with Ctrl-C (SIGINT) part-way and resumed. Prints the time, the D1 rows written and the queue operations (from the
 * admin usage report, which counts them as the Worker runs), and checks the table ends with exactly the expected rows.
 *
 *   npx node bench/backfill.ts [count]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startFakeLists, stripeSubscriptions } from '../test/support/fake-lists.ts';
import { CLI, defaultManifestText, projectWith, replaceOnce, ROOT } from '../test/support/project.ts';
import { freePort } from '../test/support/wrangler-dev.ts';
import { TEST_SECRETS } from '../test/support/secrets.ts';

const COUNT = Number(process.argv[2] ?? 5000);
const KEY = 'sk_test_bench';
const fake = await startFakeLists({ key: KEY, throttleEvery: 40 });
fake.stripe.set('subscriptions', stripeSubscriptions(COUNT));
const persist = mkdtempSync(join(tmpdir(), 'switchyard-backfill-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const dev = spawn('npm', ['run', 'dev', '--', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist], {
  cwd: ROOT,
  env: { ...process.env, CI: 'true' },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let devLog = '';
dev.stdout!.on('data', (d) => (devLog += d));
dev.stderr!.on('data', (d) => (devLog += d));
const stopDev = () => {
  try {
    process.kill(-dev.pid!, 'SIGTERM');
  } catch {
    // gone already
  }
};
try {
  for (let i = 0; ; i++) {
    if (i > 400) throw new Error(`npm run dev did not answer:\n${devLog}`);
    if (
      await fetch(`${url}/healthz`)
        .then((r) => r.ok)
        .catch(() => false)
    )
      break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const manifest = replaceOnce(
    defaultManifestText(),
    '  stripe:\n    provider: stripe\n',
    `  stripe:\n    provider: stripe\n    sources:\n      subscriptions: { url: "${fake.url}/v1/subscriptions" }\n`,
  );
  const dir = dirname(projectWith(manifest));
  const env = { ...process.env, ADMIN_TOKEN: TEST_SECRETS.ADMIN_TOKEN!, SWITCHYARD_URL: url, STRIPE_SECRET_KEY: KEY };
  const usage = async () => {
    const body = (await (
      await fetch(`${url}/admin/api/usage`, { headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` } })
    ).json()) as { platform: { metrics: { metric: string; used: number }[] } };
    return Object.fromEntries(body.platform.metrics.map((m) => [m.metric, m.used]));
  };
  const checkpoint = join(dir, '.switchyard/backfill/default-stripe-subscriptions.json');
  const runCli = (interruptAfter?: number) =>
    new Promise<{ code: number | null; out: string; ms: number }>((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, [CLI, 'backfill', 'stripe', '--objects', 'subscriptions', '--yes'], {
        cwd: dir,
        env,
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      let timer: NodeJS.Timeout | undefined;
      if (interruptAfter) {
        timer = setInterval(() => {
          const listed = existsSync(checkpoint)
            ? (JSON.parse(readFileSync(checkpoint, 'utf8')) as { listed: number }).listed
            : 0;
          if (listed >= interruptAfter) {
            child.kill('SIGINT');
            clearInterval(timer);
          }
        }, 50);
      }
      child.on('exit', (code) => {
        clearInterval(timer);
        resolve({ code, out, ms: Date.now() - started });
      });
    });
  const before = await usage();
  const first = await runCli(Math.floor(COUNT * 0.4));
  const stopped = JSON.parse(readFileSync(checkpoint, 'utf8')) as { listed: number };
  const second = await runCli();
  const after = await usage();
  const d1Dir = join(persist, 'v3/d1/miniflare-D1DatabaseObject');
  const db = new DatabaseSync(join(d1Dir, readdirSync(d1Dir).find((f) => f.endsWith('.sqlite'))!), { readOnly: true });
  const rows = (db.prepare("SELECT count(*) AS n FROM subscriptions WHERE id LIKE 'sub_%'").get() as { n: number }).n;
  const events = (db.prepare("SELECT count(*) AS n FROM events WHERE origin = 'backfill'").get() as { n: number }).n;
  const wrong = (
    db.prepare("SELECT count(*) AS n FROM subscriptions WHERE status NOT IN ('active', 'canceled')").get() as {
      n: number;
    }
  ).n;
  db.close();
  const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  console.log(
    first.out
      .split('\n')
      .filter((l) => /interrupted|stopped|per object|total for/.test(l))
      .join('\n'),
  );
  console.log(
    second.out
      .split('\n')
      .filter((l) => /resuming|events sent/.test(l))
      .join('\n'),
  );
  console.log(
    JSON.stringify(
      {
        objects: COUNT,
        interrupted: { exit: first.code, listed: stopped.listed, seconds: first.ms / 1000 },
        resumed: { exit: second.code, seconds: second.ms / 1000 },
        total_seconds: (first.ms + second.ms) / 1000,
        subscriptions_rows: rows,
        backfill_events: events,
        unexpected_rows: wrong,
        d1_rows_written: delta('d1_rows_written'),
        d1_rows_written_per_object: delta('d1_rows_written') / COUNT,
        queue_operations: delta('queue_operations'),
        worker_requests: delta('worker_requests'),
        provider: { requests: fake.requests, rate_limited: fake.throttled },
      },
      null,
      2,
    ),
  );
  process.exitCode = rows === COUNT && events === COUNT && first.code === 130 && second.code === 0 ? 0 : 1;
} finally {
  stopDev();
  await fake.close();
}
