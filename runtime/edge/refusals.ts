/**
 * The refusal log: a refused webhook request (401, 405, 413, 400) kept so a person can see what it was. Time,
 * integration, route, method, status, reason, the names of the secrets the verifier tried, the headers with secrets
 * and signatures redacted, the body's SHA-256 and size; never the body, never a secret's value.
 *
 * Sampled and capped in D1, so a flood cannot spend the free plan: at most REFUSAL_CAPS.per_integration_per_minute
 * rows per integration and minute, and REFUSAL_CAPS.per_hour in all per hour (the insert counts the rows already
 * there, through the table's key). A refusal past the cap is counted (the usage flush), not logged. An isolate that
 * met the cap asks D1 again only in the next minute (or hour), so a flood costs no statement per request.
 */
import type { HTTPException } from 'hono/http-exception';
import { isSecretSet, type SecretEnv } from '../component/context.ts';
import { sha256, toHex } from '../lib/bytes.ts';
import { errorBodies } from '../lib/http.ts';
import { periodBounds } from '../lib/periods.ts';
import type { PlatformUsage } from '../lib/platform.ts';
import { CREDENTIAL_HEADER, secretRedactor } from '../lib/redact.ts';
import type { IntegrationSecrets } from '../manifest/secrets.ts';
import { bodiesRead } from './ingest.ts';

export type { Refusal } from '../store/refusals.ts';

/** How many refusals are logged, at most (a refusal past either cap is counted only). */
export const REFUSAL_CAPS = { per_integration_per_minute: 3, per_hour: 60 } as const;
/** Rows written per refusal logged: its row (WITHOUT ROWID: the key is the row) and its counter, in one batch. */
export const REFUSAL_ROWS_WRITTEN = 2;
/** The most the log writes in a day, whatever arrives: the hourly cap, 24 times, each refusal its rows. */
export const REFUSAL_ROWS_PER_DAY = REFUSAL_CAPS.per_hour * 24 * REFUSAL_ROWS_WRITTEN;
/** How much of each header value is kept, and how many headers. */
const MAX_HEADER_VALUE = 200;
const MAX_HEADERS = 40;

/** What the edge knows of a refusal when it answers it. */
export interface RefusedRequest {
  integration: string;
  request: Request;
  status: number;
  reason: string;
  /** The bytes read, when the body was read (not for a wrong method or a body over the limit). */
  body?: Uint8Array;
  /** The integration's secret names, and the environment they are read from. */
  secrets?: IntegrationSecrets;
  env: SecretEnv & { DB: D1Database };
  nowMs: number;
}

/** The request's headers with every credential and signature redacted, and any secret value scrubbed. */
export function redactedHeaders(headers: Headers, secretValues: readonly string[]): Record<string, string> {
  const scrub = secretRedactor(secretValues);
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of headers) {
    if (++n > MAX_HEADERS) break;
    const kept = CREDENTIAL_HEADER.test(name) ? '[redacted]' : scrub(value);
    out[name] = kept.length > MAX_HEADER_VALUE ? `${kept.slice(0, MAX_HEADER_VALUE)}…` : kept;
  }
  return out;
}

const INSERT = `INSERT INTO refusals (at, integration, id, method, route, status, reason, secrets, headers, body_sha256, body_size)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11
WHERE (SELECT count(*) FROM refusals WHERE at >= ?12) < ?13 AND (SELECT count(*) FROM refusals WHERE at >= ?14 AND integration = ?2) < ?15`;
/** The refusal's counter, added only when its row was (past the cap, the count waits for the usage flush). */
const COUNT = `INSERT INTO usage (metric, key, period_start, n) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM refusals WHERE at = ?5 AND integration = ?6 AND id = ?7)
ON CONFLICT (metric, period_start, key) DO UPDATE SET n = n + excluded.n`;

/** One isolate's refusal log: what it has logged this minute, and which windows it found full. */
export class RefusalLog {
  private minute = '';
  private loggedThisMinute = new Map<string, number>();
  private fullHour = '';

  private readonly usage: PlatformUsage | undefined;

  constructor(usage?: PlatformUsage) {
    this.usage = usage;
  }

  /** Logs a refusal if the caps allow, with its counter in the same batch. Never throws. */
  async record(r: RefusedRequest): Promise<void> {
    const minute = periodBounds('minute', r.nowMs).start;
    const hour = periodBounds('hour', r.nowMs).start;
    if (this.fullHour === hour) return;
    if (this.minute !== minute) {
      this.minute = minute;
      this.loggedThisMinute.clear();
    }
    const mine = this.loggedThisMinute.get(r.integration) ?? 0;
    if (mine >= REFUSAL_CAPS.per_integration_per_minute) return;
    // Claimed before the first await: refusals answered at once count against the same window.
    this.loggedThisMinute.set(r.integration, mine + 1);
    try {
      const db = r.env.DB;
      const at = new Date(r.nowMs).toISOString();
      const id = crypto.randomUUID().slice(0, 8);
      const names = r.secrets ? [...new Set(r.secrets.lists.flat())] : [];
      const tried = names.filter((name) => isSecretSet(r.env, name));
      const values = tried.map((name) => String(r.env[name]).trim());
      const row = [
        at,
        r.integration,
        id,
        r.request.method,
        new URL(r.request.url).pathname,
        r.status,
        r.reason,
        JSON.stringify(tried),
        JSON.stringify(redactedHeaders(r.request.headers, values)),
        r.body ? toHex(await sha256(r.body)) : null,
        r.body ? r.body.byteLength : Number(r.request.headers.get('content-length') ?? 0) || 0,
        hour,
        REFUSAL_CAPS.per_hour,
        minute,
        REFUSAL_CAPS.per_integration_per_minute,
      ];
      const metric = `rejections.${r.integration}`;
      const taken = this.usage?.takeRejection(metric, r.reason);
      const statements = [db.prepare(INSERT).bind(...row)];
      if (taken) statements.push(db.prepare(COUNT).bind(metric, r.reason, hour, taken.n, at, r.integration, id));
      let logged = false;
      try {
        const [insert] = await db.batch(statements);
        logged = (insert?.meta.changes ?? 0) > 0;
      } finally {
        if (!logged) taken?.restore();
      }
      if (!logged) {
        // Full (or D1 failed): this isolate stops asking until the window turns.
        this.loggedThisMinute.set(r.integration, REFUSAL_CAPS.per_integration_per_minute);
        const total = await db
          .prepare('SELECT count(*) AS n FROM refusals WHERE at >= ?1')
          .bind(hour)
          .first<{ n: number }>();
        if ((total?.n ?? 0) >= REFUSAL_CAPS.per_hour) this.fullHour = hour;
      }
    } catch {
      // The log is for people; a refusal is answered and counted whether or not it is logged.
    }
  }
}

/**
 * Logs the refusal an HTTPException answers: its reason is the answer's own (`reason`, else `error`), its body the
 * bytes ingest read, if it read them.
 */
export function logRefusal(
  log: RefusalLog,
  error: HTTPException,
  r: Omit<RefusedRequest, 'status' | 'reason' | 'body'>,
): Promise<void> {
  const answer: { error?: string; reason?: string } = errorBodies.get(error) ?? {};
  const body = bodiesRead.get(r.request);
  return log.record({
    ...r,
    status: error.status,
    reason: answer.reason ?? answer.error ?? `http_${error.status}`,
    ...(body ? { body } : {}),
  });
}
