/**
 * The tables of the manifest's own sections (docs/manifest.md), generated from their specs
 * (runtime/manifest/sections/): each field with its type, whether it is required or its default, and its
 * description. `switchyard types` writes them between their markers and `types --check` fails when they are stale,
 * so a default is said in one place: the spec.
 */
import { fieldDocs, type Field, type Spec } from '../../runtime/component/spec.ts';
import { manifestSpec, sectionDefinitions } from '../../runtime/manifest/sections/manifest.ts';

export const SECTIONS_START =
  '<!-- sections:start (generated from runtime/manifest/sections/ by `npm run types`; do not edit) -->';
export const SECTIONS_END = '<!-- sections:end -->';

type AnyField = Field<unknown, 'required' | 'optional' | 'defaulted'>;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Where each definition is written in the manifest, for its heading. */
const WHERE: Record<string, string> = {
  Defaults: 'defaults',
  RetryPolicy: 'retry (defaults, an integration, a route, a command, an action step)',
  Queue: 'queues.<name>',
  Store: 'stores.<name>',
  Integration: 'integrations.<name>',
  EventExtraction: 'integrations.<name>.event',
  WebhookResponse: 'integrations.<name>.response',
  Handler: 'handlers[] (of an integration or a route)',
  Limit: 'limits.<name>',
  Route: 'routes.<name>',
  RouteAnalytics: 'routes.<name>.analytics',
  Requirement: 'require (of a route, admin)',
  RateLimit: 'routes.<name>.rate_limit',
  Command: 'commands.<name>',
  Let: 'let (of an integration, a handler, a command)',
  Overlay: 'environments.<name>',
};

function table(spec: Spec): string[] {
  const rows = fieldDocs(spec).map(
    (f) =>
      `| \`${f.name}\` | ${f.type} | ${f.required ? 'required' : f.default !== undefined ? `\`${cell(f.default)}\`` : ''} | ${cell(f.description)} |`,
  );
  return ['| field | type | required / default | description |', '|---|---|---|---|', ...rows, ''];
}

/** A section's table, then one for each nested object it declares inline (a command's `auth`, `sync`, …). */
function section(heading: string, f: AnyField): string[] {
  const inner = f.inner && 'spec' in f.inner ? f.inner.spec : undefined;
  if (!inner) return [];
  const description = f.text ?? (typeof f.schema.description === 'string' ? f.schema.description : '');
  return [
    `### \`${heading}\``,
    '',
    ...(description ? [description, ''] : []),
    ...table(inner),
    ...Object.entries(inner).flatMap(([key, child]) => section(`${heading}.${key}`, child)),
  ];
}

/** Every section's tables: the top level, then each definition the sections declare. */
export function sectionsDoc(): string {
  return [
    '### top level',
    '',
    ...table(manifestSpec),
    ...Object.entries(manifestSpec).flatMap(([key, f]) => section(key, f)),
    ...Object.entries(sectionDefinitions).flatMap(([name, f]) => section(WHERE[name] ?? name, f)),
  ]
    .join('\n')
    .trimEnd();
}

/** A page with the sections' tables replaced where their markers are (unchanged when it has none). */
export function withSectionTables(page: string): string {
  const from = page.indexOf(SECTIONS_START);
  const to = page.indexOf(SECTIONS_END);
  if (from < 0 || to < from) return page;
  return `${page.slice(0, from + SECTIONS_START.length)}\n${sectionsDoc()}\n${page.slice(to)}`;
}
