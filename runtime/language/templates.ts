/**
 * Logic-less templates for emails and SMS: `{{ name }}` or `{{ user.name }}` placeholders, nothing else (no
 * code, no eval). In HTML every value is escaped, so a name like `<img onerror=…>` renders as text. Which
 * variables a template uses is known when it is compiled, so a variable the action does not provide is a
 * validation error, not an empty string at send time.
 */
import type { Template } from '../manifest/types.gen.ts';

export const templateSchema = {
  type: 'object',
  title: 'Template',
  additionalProperties: false,
  properties: {
    subject: { type: 'string', description: 'Subject line (plain text; placeholders allowed).' },
    html: { type: 'string', description: 'HTML body; every {{value}} is HTML-escaped.' },
    text: { type: 'string', description: 'Plain-text body (also the SMS body).' },
    html_file: {
      type: 'string',
      description: 'A file next to the manifest holding the HTML body (inlined by the build).',
    },
    text_file: {
      type: 'string',
      description: 'A file next to the manifest holding the text body (inlined by the build).',
    },
  },
} as const;

/** A template as the manifest writes it: the generated `Template`. */
export type TemplateSpec = Template;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => ESCAPES[c]!);
}

type Part = string | { name: string; path: string[] };

export interface CompiledText {
  variables: Set<string>;
  render(data: Record<string, unknown>): string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

/** Compiles one template string; `html` escapes values. Throws on malformed braces. */
export function compileText(source: string, html: boolean): CompiledText {
  const parts: Part[] = [];
  const variables = new Set<string>();
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    parts.push(source.slice(last, m.index));
    const path = m[1]!.split('.');
    variables.add(path[0]!);
    parts.push({ name: m[1]!, path });
    last = m.index! + m[0].length;
  }
  parts.push(source.slice(last));
  const rest = parts.filter((p): p is string => typeof p === 'string').join('');
  if (rest.includes('{{') || rest.includes('}}'))
    throw new Error('malformed placeholder: use {{ name }} or {{ name.field }}');
  return {
    variables,
    render(data) {
      let out = '';
      for (const part of parts) {
        if (typeof part === 'string') out += part;
        else {
          let value: unknown = data;
          for (const key of part.path)
            value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
          const text =
            value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
          out += html ? escapeHtml(text) : text;
        }
      }
      return out;
    },
  };
}

export interface CompiledTemplate {
  name: string;
  variables: Set<string>;
  render(data: Record<string, unknown>): { subject?: string; html?: string; text?: string };
}

/** Compiles a named template (its `*_file` fields must have been inlined by the build). */
export function compileTemplate(name: string, spec: TemplateSpec): CompiledTemplate {
  if (spec.html_file || spec.text_file)
    throw new Error(`template ${name}: ${spec.html_file ?? spec.text_file} was not inlined; run switchyard build`);
  if (spec.html === undefined && spec.text === undefined) throw new Error(`template ${name} needs html or text`);
  const fields = (['subject', 'html', 'text'] as const).flatMap((f) =>
    spec[f] === undefined ? [] : [[f, compileText(spec[f]!, f === 'html')] as const],
  );
  const variables = new Set(fields.flatMap(([, t]) => [...t.variables]));
  return {
    name,
    variables,
    render: (data) => Object.fromEntries(fields.map(([f, t]) => [f, t.render(data)])),
  };
}
