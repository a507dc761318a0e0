/**
 * docs/components.md: every registered component, grouped by kind, with its options table and example. Made from
 * each component's spec by `switchyard types` (and checked by `npm run check`), so it cannot drift from the code.
 */
import { stringify } from 'yaml';
import type { Component, Kind } from '../../runtime/component/define.ts';
import type { Registry } from '../../runtime/component/registry.ts';
import { fieldDocs } from '../../runtime/component/spec.ts';

const KINDS: { kind: Kind; title: string; where: string; picked: string }[] = [
  {
    kind: 'verifier',
    title: 'Verifiers',
    where: 'adapters/verifiers/',
    picked: '`verifier: { type: … }` of an integration',
  },
  {
    kind: 'handshake',
    title: 'Handshakes',
    where: 'adapters/handshakes/',
    picked: '`handshake: { type: … }` of an integration',
  },
  { kind: 'step', title: 'Steps', where: 'adapters/steps/', picked: 'the key of a handler step (`- sql: …`)' },
  {
    kind: 'action',
    title: 'Actions',
    where: 'adapters/actions/',
    picked: '`- action: …` in a handler, command or limit notification',
  },
  { kind: 'auth', title: 'Auth providers', where: 'adapters/auth/', picked: '`auth: { name: { type: … } }`' },
  { kind: 'endpoint', title: 'Endpoints', where: 'adapters/endpoints/', picked: '`endpoint: { type: … }` of a route' },
];

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function section(component: Component): string {
  const rows = fieldDocs(component.spec).map(
    (f) =>
      `| \`${f.name}\` | ${f.type} | ${f.required ? 'required' : f.default !== undefined ? `\`${cell(f.default)}\`` : ''} | ${cell(f.description)} |`,
  );
  return [
    `### ${component.name}`,
    '',
    component.description,
    '',
    ...(rows.length ? ['| option | type | required / default | description |', '|---|---|---|---|', ...rows, ''] : []),
    ...(component.reasons?.length
      ? [`Refusal reasons of its own: ${component.reasons.map((r) => `\`${r}\``).join(', ')}.`, '']
      : []),
    '```yaml',
    stringify(component.example).trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** The whole page for a registry. */
export function componentsDoc(registry: Registry): string {
  const byKind = (kind: Kind) => registry.all.filter((c) => c.kind === kind);
  return [
    '<!-- Generated from the component specs by `npm run types`. Do not edit: change the component instead. -->',
    '# Components',
    '',
    'Every verifier, handshake, step, action, auth provider and endpoint the default registry (worker/registry.ts) has, with the options its spec declares. How to write one: [architecture.md](architecture.md).',
    '',
    ...KINDS.flatMap(({ kind, title, where, picked }) => [
      `## ${title}`,
      '',
      `Picked by ${picked}; code in \`${where}\`.`,
      '',
      ...byKind(kind).map(section),
    ]),
  ].join('\n');
}
