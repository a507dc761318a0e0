/** Rendering an action's message from a named template or inline text, with its `data` values. */
import type { StepContext } from '../../runtime/component/context.ts';
import type { ActionCompileContext } from '../../runtime/component/action.ts';
import { compileTemplate, type CompiledTemplate } from '../../runtime/language/templates.ts';
import { compileValue, type ValueFn } from '../../runtime/language/values.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';

/**
 * A described value from the event. The ref is wrapped in allOf: a `$ref` with a sibling description makes the
 * type generator mint a twin (Value1, Value2…) instead of saying `Value`.
 */
export const valueField = (description: string) =>
  field.schema<Value>({ allOf: [{ $ref: '#/definitions/Value' }] }).describe(description);

/** The options of a message (email, SMS): a named template or inline fields, and the template's data. */
export const messageSpec = {
  template: field.string().optional().describe('A template declared under `templates:`.'),
  data: field
    .record(field.ref<Value>('Value'))
    .optional()
    .describe("The template's variables, each a value from the event."),
  subject: field.string().optional().describe('Inline subject (placeholders allowed), instead of a template.'),
  html: field.string().optional().describe('Inline HTML (values escaped), instead of a template.'),
  text: field.string().optional().describe('Inline text, instead of a template.'),
} as const;

/** A message's parsed options. */
export type MessageOptions = Options<typeof messageSpec>;

export interface CompiledMessage {
  render(ctx: StepContext): { subject?: string; html?: string; text?: string };
}

/**
 * Compiles the message once: a named template or inline fields, and the `data` values. Every variable the
 * template uses must be in `data` (a load-time error otherwise, so `validate` reports it).
 */
export function compileMessage(
  options: MessageOptions,
  ctx: ActionCompileContext,
  needs: ('subject' | 'html' | 'text')[][],
): CompiledMessage {
  const inline = options.subject !== undefined || options.html !== undefined || options.text !== undefined;
  if (options.template && inline) throw new Error('use either `template` or inline subject/html/text, not both');
  let template: CompiledTemplate;
  if (options.template) {
    const found = ctx.templates.get(options.template);
    if (!found)
      throw new Error(
        `template ${JSON.stringify(options.template)} is not declared under templates: (declared: ${[...ctx.templates.keys()].join(', ') || 'none'})`,
      );
    template = found;
  } else {
    const spec = {
      ...(options.subject !== undefined ? { subject: options.subject } : {}),
      ...(options.html !== undefined ? { html: options.html } : {}),
      ...(options.text !== undefined ? { text: options.text } : {}),
    };
    template = compileTemplate('(inline)', spec);
  }
  const probe = template.render({});
  for (const alternatives of needs) {
    if (!alternatives.some((f) => probe[f] !== undefined))
      throw new Error(`the message needs ${alternatives.join(' or ')}`);
  }
  const data = Object.entries(options.data ?? {}).map(
    ([k, v]) => [k, compileValue(v, { allowEnvelope: true })] as [string, ValueFn],
  );
  const missing = [...template.variables].filter((v) => !data.some(([k]) => k === v));
  if (missing.length)
    throw new Error(
      `template ${template.name} uses ${missing.map((m) => `{{${m}}}`).join(', ')} but data does not provide ${missing.length > 1 ? 'them' : 'it'}`,
    );
  return {
    render: (stepCtx) => template.render(Object.fromEntries(data.map(([k, value]) => [k, value(stepCtx.values)]))),
  };
}

/** Compiles a map of values (analytics properties, HTTP bodies and headers). */
export function compileValueMap(
  map: Readonly<Record<string, Value>> | undefined,
): (ctx: StepContext) => Record<string, unknown> {
  const entries = Object.entries(map ?? {}).map(
    ([k, v]) => [k, compileValue(v, { allowEnvelope: true })] as [string, ValueFn],
  );
  return (ctx) => Object.fromEntries(entries.map(([k, value]) => [k, value(ctx.values)]));
}

/** Base URLs are configurable so tests and staging point at a fake; only http(s) origins are accepted. */
export const baseUrl = (provider: string, description = 'API base URL.') =>
  field.string({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' }).default(provider).describe(description);

export const trimSlash = (url: string) => url.replace(/\/+$/, '');
