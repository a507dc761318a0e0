/**
 * Alerts, declared in the manifest and evaluated by the cron trigger. Each is a condition over the event log and
 * an action to notify with; it fires once when the condition starts to hold (an incident opens) and again only
 * after the condition has cleared (the incident closes). Never once per event.
 */
import type { SecretEnv } from '../component/context.ts';
import { sendNotification } from '../consumer/effects.ts';
import type { Emit } from '../lib/telemetry.ts';
import type { CompiledAlert } from '../manifest/alerts.ts';

/** Evaluates every alert: opens an incident (and notifies) when a condition starts holding, closes it when it clears. */
export async function evaluateAlerts(
  alerts: readonly CompiledAlert[],
  db: D1Database,
  io: { env: SecretEnv; fetch: typeof fetch; now: number },
  emit: Emit,
): Promise<void> {
  const at = new Date(io.now).toISOString();
  for (const alert of alerts) {
    const { active, value, threshold, detail } = await alert.measure(db, io.now);
    const open = await db
      .prepare('SELECT opened_at FROM alert_incidents WHERE alert = ?1 AND closed_at IS NULL')
      .bind(alert.name)
      .first<{ opened_at: string }>();
    if (active && !open) {
      await db
        .prepare('INSERT INTO alert_incidents (alert, opened_at, value) VALUES (?1, ?2, ?3)')
        .bind(alert.name, at, value)
        .run();
      try {
        const more = detail ? await detail() : {};
        await sendNotification(
          alert.notify,
          `alert:${alert.name}:${at}`,
          'alert.fired',
          { ...more, alert: alert.name, value, threshold, opened_at: at },
          io,
        );
        emit({ kind: 'alert.fired', alert: alert.name, value });
      } catch (error) {
        // Not delivered: reopen the question at the next evaluation.
        await db.prepare('DELETE FROM alert_incidents WHERE alert = ?1 AND opened_at = ?2').bind(alert.name, at).run();
        emit({ kind: 'runtime.error', where: `alerts.${alert.name}`, error: String(error) });
      }
    } else if (!active && open) {
      await db
        .prepare('UPDATE alert_incidents SET closed_at = ?3 WHERE alert = ?1 AND opened_at = ?2')
        .bind(alert.name, open.opened_at, at)
        .run();
      emit({ kind: 'alert.resolved', alert: alert.name, value });
    }
  }
}
