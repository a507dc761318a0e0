/**
 * Custom trace spans, through the Workers tracing API (`tracing` of `cloudflare:workers`), which the Worker entry hands
 * in; the runtime never imports it (it also runs in Node: the CLI's offline engine, tests). Spans carry the attribute
 * names the log records carry (lib/telemetry.ts `logRecord`), so one filter finds an event in logs and traces. A span
 * records nothing, and attributes are not even built, for an invocation that is not sampled (`isTraced`).
 */
import { attributesOf, type TelemetryEvent } from './telemetry.ts';
import { Stage } from '../store/status.ts';

/** The part of a Workers `Span` the runtime uses. */
export interface SpanLike {
  readonly isTraced: boolean;
  setAttribute(key: string, value: string | number | boolean): unknown;
}

/** The part of Workers' `tracing` the runtime uses: a span around a callback, and the span now active. */
export interface Tracer {
  enterSpan<T>(name: string, callback: (span: SpanLike) => T): T;
  getActiveSpan?(): SpanLike | undefined;
}

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** Sets the attributes that have a value, on a span that records. */
export function annotate(span: SpanLike | undefined, attributes: SpanAttributes): void {
  if (!span?.isTraced) return;
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) span.setAttribute(key, value);
  }
}

/** Runs `work` in a span named `name` (with no tracer, just runs it); `attributes` are built only for a traced span. */
export function inSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  attributes: () => SpanAttributes,
  work: (span: SpanLike | undefined) => Promise<T>,
): Promise<T> {
  if (!tracer) return work(undefined);
  return tracer.enterSpan(name, (span) => {
    if (span.isTraced) annotate(span, attributes());
    return work(span);
  });
}

/**
 * An emit that also writes a webhook request's records onto the span active for it (the invocation's root span: the
 * request path opens no span of its own), so traces are found by integration, event_id, type, stage and outcome.
 * Only `ingest` and `apply` records: others run in spans of their own, or concern no one event.
 */
export function annotatingEmit(emit: (event: TelemetryEvent) => void, tracer: Tracer): (event: TelemetryEvent) => void {
  if (!tracer.getActiveSpan) return emit;
  return (event) => {
    emit(event);
    // Most invocations are not sampled: nothing more is worked out for them.
    const span = tracer.getActiveSpan!();
    if (!span?.isTraced) return;
    const [stage, outcome] = attributesOf(event);
    if (stage !== Stage.ingest && stage !== 'apply') return;
    const fields = event as { integration?: string; id?: string; type?: string };
    annotate(span, { integration: fields.integration, event_id: fields.id, type: fields.type, stage, outcome });
  };
}
