/**
 * docs/console.md against the code: its badges and reasons are what the admin API words them as, its limits are the
 * code's constants, its images are committed, its step label is the default manifest's, and its cost figure is the
 * scale test's budget. The behaviour itself is tested in test/worker/effect-failures.test.ts and in Chromium
 * (test/node/dashboard.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultManifest } from '../../bench/fixtures.ts';
import { ANSWER_EXCERPT } from '../../runtime/consumer/effects.ts';
import { BULK_RETRY_LIMIT, effectLabel, effectSummary, failureReason } from '../../runtime/operations/admin-effects.ts';
import type { EffectState } from '../../runtime/store/failing.ts';
import { ROOT } from '../support/project.ts';

const DOC = readFileSync(join(ROOT, 'docs/console.md'), 'utf8');
const quoted = (text: string) => expect(DOC).toContain(`\`${text}\``);

const effect = (status: string, attempts: number, dismissed_at: string | null = null): EffectState =>
  ({
    integration: 'stripe',
    event_id: 'evt_1',
    step: '0:0',
    action: 'resend',
    source: 'integrations.stripe.handlers[0].steps[0]',
    status,
    attempts,
    next_at: null,
    error: null,
    updated_at: '',
    dismissed_at,
  }) as EffectState;

describe('docs/console.md', () => {
  it('quotes each badge as the API words it', () => {
    quoted(effectSummary(effect('dead_lettered', 1), 5));
    quoted(effectSummary(effect('retrying', 1), 5));
    quoted(effectSummary(effect('deferred', 1), 5));
    quoted(effectSummary(effect('dropped', 1), 5));
    quoted(effectSummary(effect('dead_lettered', 1, '2026-06-01T00:00:00.000Z'), 5));
  });

  it('quotes reasons as failureReason makes them from the actions’ own error texts', () => {
    quoted(failureReason('resend', 'resend answered 500: {"message":"mail relay down"}'));
    quoted(failureReason('resend', 'resend answered 422: {"name":"validation_error","message":"Invalid `to` field"}'));
    quoted(failureReason('http', 'could not reach hooks.example.test: no answer (internal error; reference = abc)'));
  });

  it("names a step as the default manifest's invoice email is named", () => {
    const handlers = defaultManifest().integrations.stripe!.handlers!;
    const h = handlers.findIndex((x) => x.on === 'invoice.payment_failed');
    const s = handlers[h]!.steps.findIndex((step) => (step as { action?: string }).action === 'resend');
    quoted(effectLabel(`integrations.stripe.handlers[${h}].steps[${s}]`, 'resend'));
  });

  it('states the limits the code has', () => {
    expect(DOC).toContain(`at most ${BULK_RETRY_LIMIT} a call`);
    expect(DOC).toContain(`at most ${ANSWER_EXCERPT} characters`);
    const consumer = readFileSync(join(ROOT, 'runtime/consumer/consumer.ts'), 'utf8');
    for (const words of ['already sent (at', 'being sent now']) expect(consumer).toContain(words);
    quoted('already sent (at ...): not sent again');
  });

  it("references committed screenshots, and the scale test's budget for a page of the list", () => {
    const images = [...DOC.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThan(3);
    for (const image of images) expect(existsSync(join(ROOT, 'docs', image)), image).toBe(true);
    expect(DOC).toContain('a page of 50 events is 250 rows read');
    expect(readFileSync(join(ROOT, 'test/worker/scale.test.ts'), 'utf8')).toContain(
      "['GET /events?status=applied', { read: 250, written: 0 }, get('/admin/api/events?status=applied&limit=50')]",
    );
  });
});
