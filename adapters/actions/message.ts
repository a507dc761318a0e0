/** Rendering an action's message from a named template or inline text, with its `data` values. */
import type { StepContext } from '../../runtime/component/context.ts';
import type { ActionCompileContext } from '../../runtime/component/action.ts';
import { compileTemplate, type CompiledTemplate } from '../../runtime/manifest/templates.ts';
import { compileValue, valueSchema, type ValueFn } from '../../runtime/manifest/values.ts';

export const messageOptions = {
  template: { type: 'string', description: 'A template declared under `templates:`.' },
  data: { type: 'object', additionalProperties: valueSchema, description: "The template's variables, each a value from the event." },
  subject: { type: 'string', description: 'Inline subject (placeholders allowed), instead of a template.' },
  html: { type: 'string', description: 'Inline HTML (values escaped), instead of a template.' },
  text: { type: 'string', description: 'Inline text, instead of a template.' },
} as const;

export interface MessageOptions {
  template?: string;
  data?: Record<string, unknown>;
  subject?: string;
  html?: string;
  text?: string;
}

export interface CompiledMessage {
  render(ctx: StepContext): { subject?: string; html?: string; text?: string };
}

/**
 * Compiles the message once: a named template or inline fields, and the `data` values. Every variable the
 * template uses must be in `data` (a load-time error otherwise, so `validate` reports it).
 */
export function compileMessage(options: MessageOptions, ctx: ActionCompileContext, needs: ('subject' | 'html' | 'text')[][]): CompiledMessage {
  const inline = options.subject !== undefined || options.html !== undefined || options.text !== undefined;
  if (options.template && inline) throw new Error('use either `template` or inline subject/html/text, not both');
  let template: CompiledTemplate;
  if (options.template) {
    const found = ctx.templates.get(options.template);
    if (!found) throw new Error(`template ${JSON.stringify(options.template)} is not declared under templates: (declared: ${[...ctx.templates.keys()].join(', ') || 'none'})`);
    template = found;
  } else {
    const spec = { ...(options.subject !== undefined ? { subject: options.subject } : {}), ...(options.html !== undefined ? { html: options.html } : {}), ...(options.text !== undefined ? { text: options.text } : {}) };
    template = compileTemplate('(inline)', spec);
  }
  const probe = template.render({});
  for (const alternatives of needs) {
    if (!alternatives.some((f) => probe[f] !== undefined)) throw new Error(`the message needs ${alternatives.join(' or ')}`);
  }
  const data = Object.entries(options.data ?? {}).map(([k, v]) => [k, compileValue(v as never, { allowEnvelope: true })] as [string, ValueFn]);
  const missing = [...template.variables].filter((v) => !data.some(([k]) => k === v));
  if (missing.length) throw new Error(`template ${template.name} uses ${missing.map((m) => `{{${m}}}`).join(', ')} but data does not provide ${missing.length > 1 ? 'them' : 'it'}`);
  return {
    render: (stepCtx) => template.render(Object.fromEntries(data.map(([k, value]) => [k, value(stepCtx.values)]))),
  };
}

/** Compiles a map of values (analytics properties, HTTP bodies and headers). */
export function compileValueMap(map: Record<string, unknown> | undefined): (ctx: StepContext) => Record<string, unknown> {
  const entries = Object.entries(map ?? {}).map(([k, v]) => [k, compileValue(v as never, { allowEnvelope: true })] as [string, ValueFn]);
  return (ctx) => Object.fromEntries(entries.map(([k, value]) => [k, value(ctx.values)]));
}

/** Base URLs are configurable so tests and staging point at a fake; only http(s) origins are accepted. */
export const baseUrlSchema = { type: 'string', pattern: '^https?://[^/?#]+(/[^?#]*)?$', description: 'API base URL (default: the provider\'s).' } as const;

export const trimSlash = (url: string) => url.replace(/\/+$/, '');
