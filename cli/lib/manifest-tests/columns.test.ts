import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../runtime/manifest/types.gen.ts';
import { EventStatus } from '../../../runtime/store/status.ts';
import type { Case } from './cases.ts';
import {
  columnCoverage,
  committedSqlSteps,
  firstSeenSqlSteps,
  projectedColumns,
  sqlSteps,
  writtenColumns,
} from './columns.ts';

const upsert = `INSERT INTO subscriptions (id, customer_id, status, version)
VALUES (:id, :customer_id, coalesce(:status, 'active'), :version)
ON CONFLICT (id) DO UPDATE SET
  customer_id = excluded.customer_id, status = excluded.status, version = excluded.version
WHERE subscriptions.version IS NULL OR excluded.version > subscriptions.version`;

describe('writtenColumns', () => {
  it("reads an upsert's column list, its VALUES row (each expression, commas in calls kept) and its DO UPDATE SET", () => {
    const clauses = writtenColumns(upsert);
    expect(clauses.map((c) => [c.kind, c.table, c.columns])).toEqual([
      ['insert', 'subscriptions', ['id', 'customer_id', 'status', 'version']],
      ['values', 'subscriptions', ['id', 'customer_id', 'status', 'version']],
      ['do update', 'subscriptions', ['customer_id', 'status', 'version']],
    ]);
    const text = (c: (typeof clauses)[number]) => c.assignments.map((a) => upsert.slice(a.start, a.end));
    expect(text(clauses[1]!)).toEqual([':id', ':customer_id', "coalesce(:status, 'active')", ':version']);
    expect(text(clauses[2]!)).toEqual(['excluded.customer_id', 'excluded.status', 'excluded.version']);
  });

  it("reads an UPDATE's SET up to its WHERE, quoted names unquoted, and no column from a string or a comment", () => {
    const sql = `UPDATE "orders" SET status = 'paid, really', -- status = x\n paid_at = :paid_at WHERE id = :id`;
    const [clause] = writtenColumns(sql);
    expect(clause).toMatchObject({ kind: 'update', table: 'orders', columns: ['status', 'paid_at'] });
    expect(clause!.assignments.map((a) => sql.slice(a.start, a.end))).toEqual(["'paid, really'", ':paid_at']);
  });

  it('writes nothing on DO NOTHING, and an INSERT ... SELECT writes its columns with no expression to swap', () => {
    expect(projectedColumns('INSERT INTO users (id, email) VALUES (:id, :email) ON CONFLICT (id) DO NOTHING')).toEqual(
      new Map([['users', ['id', 'email']]]),
    );
    expect(writtenColumns('INSERT INTO users (id, email) SELECT id, email FROM staged')).toEqual([
      { table: 'users', kind: 'insert', columns: ['id', 'email'], assignments: [] },
    ]);
  });
});

/** A manifest with one integration: an upsert handler and a delete handler writing the same table. */
const manifest = {
  version: 1,
  integrations: {
    billing: {
      route: '/webhooks/billing',
      handlers: [
        {
          on: ['sub.created', 'sub.updated'],
          steps: [
            { enqueue: 'audit', body: { id: 'id' } },
            { sql: upsert, params: {} },
          ],
        },
        {
          on: 'sub.deleted',
          if: { path: 'live', eq: true },
          steps: [
            { sql: "UPDATE subscriptions SET status = 'canceled', version = :version WHERE id = :id", params: {} },
          ],
        },
      ],
    },
  },
  routes: {
    api: {
      path: '/api/*',
      auth: 'clerk',
      on_first_seen: [
        { sql: 'INSERT INTO users (id, email) VALUES (:id, :email) ON CONFLICT (id) DO NOTHING', params: {} },
      ],
    },
  },
  commands: { sync: { steps: [{ sql: 'UPDATE users SET email = :email WHERE id = :id', params: {} }] } },
} as unknown as Manifest;

const UPSERT = 'integrations.billing.handlers[0].steps[1]';
const DELETE = 'integrations.billing.handlers[1].steps[0]';
const steps = (...s: object[]) => JSON.stringify(s);

describe('which sql steps a case committed', () => {
  it('finds every sql step of handlers, routes on_first_seen and commands', () => {
    expect(sqlSteps(manifest).map((s) => [s.at, s.label])).toEqual([
      [UPSERT, 'billing handler on sub.created, sub.updated'],
      [DELETE, 'billing handler on sub.deleted'],
      ['routes.api.on_first_seen[0]', "api route's on_first_seen"],
      ['commands.sync.steps[0]', 'command sync'],
    ]);
  });

  it("maps each applied event's recorded steps onto its handlers, skipping what a condition skipped and what did not apply", () => {
    const ran = committedSqlSteps(
      manifest,
      [
        {
          integration: 'billing',
          type: 'sub.created',
          status: EventStatus.applied,
          steps: steps({ kind: 'enqueue', statements: 0, outbox: 1 }, { kind: 'sql', statements: 1 }),
        },
        {
          integration: 'billing',
          type: 'sub.deleted',
          status: EventStatus.skipped,
          steps: steps({ kind: 'sql', statements: 0, skipped: 'integrations.billing.handlers[1].if: live eq true' }),
        },
        { integration: 'billing', type: 'sub.updated', status: EventStatus.dead_lettered, steps: null },
        {
          integration: 'command:sync',
          type: 'sync',
          status: EventStatus.applied,
          steps: steps({ kind: 'sql', statements: 1 }),
        },
        {
          integration: 'billing',
          type: 'sub.updated',
          status: EventStatus.applied,
          steps: steps({ kind: 'enqueue', statements: 0, outbox: 1 }, { kind: 'sql', statements: 1 }),
        },
      ],
      EventStatus.applied,
    );
    expect(ran).toEqual([UPSERT, 'commands.sync.steps[0]', UPSERT]);
  });

  it("counts a route's on_first_seen for a signed-in request the route answered and recorded the user as seen", () => {
    expect(firstSeenSqlSteps(manifest, [{ path: '/api/me', sub: 'u1', http: 200 }], new Set(['u1']))).toEqual([
      'routes.api.on_first_seen[0]',
    ]);
    expect(
      firstSeenSqlSteps(
        manifest,
        [
          { path: '/api/me', sub: 'u1', http: 401 },
          { path: '/v1/track', sub: 'u1', http: 200 },
        ],
        new Set(['u1']),
      ),
    ).toEqual([]);
    expect(firstSeenSqlSteps(manifest, [{ path: '/api/me', sub: 'u2', http: 200 }], new Set(['u1']))).toEqual([]);
  });
});

describe('columnCoverage', () => {
  const expectRows = (table: string, ...rows: Record<string, unknown>[]): Case['expect'] => ({
    tables: { [table]: { mode: 'rows', rows, path: [] } },
  });

  it('counts a column for a step only in a case that committed the step and lists the column in an expected row of its table', () => {
    const { gaps, total, asserted } = columnCoverage(manifest, [
      { ran: [UPSERT], expect: expectRows('subscriptions', { id: 's1', customer_id: 'c1' }) },
      // Lists status and version, but never ran the upsert: says nothing of it.
      { ran: [], expect: expectRows('subscriptions', { id: 's1', status: 'active', version: 'v' }) },
      { ran: [UPSERT], expect: expectRows('orders', { status: 'active' }) },
    ]);
    expect(gaps.find((g) => g.step.at === UPSERT)).toMatchObject({
      table: 'subscriptions',
      columns: ['status', 'version'],
      ran: true,
    });
    expect(gaps.find((g) => g.step.at === DELETE)).toMatchObject({ columns: ['status', 'version'], ran: false });
    expect(total).toBe(4 + 2 + 2 + 1);
    expect(asserted).toBe(2);
  });

  it('credits a column to the step that wrote it last in the case: a status checked after the delete says nothing of the upsert', () => {
    const { gaps } = columnCoverage(manifest, [
      {
        ran: [UPSERT, UPSERT, DELETE],
        expect: expectRows('subscriptions', { id: 's1', customer_id: 'c1', status: 'canceled', version: 'v3' }),
      },
    ]);
    expect(gaps.filter((g) => g.table === 'subscriptions').map((g) => [g.step.at, g.columns])).toEqual([
      [UPSERT, ['status', 'version']],
    ]);
  });
});
