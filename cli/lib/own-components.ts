/**
 * A project's own components: the files its manifest names under `components:` (paths from the manifest), each
 * exporting what `defineComponent` returns, the same contract every adapter in adapters/ uses. They join the
 * built-in ones in the project's registry, so the schema, `validate`, `switchyard test`, `send`, `plan` and the
 * build (`.switchyard/<name>.registry.ts`, which the Worker bundles) know them as they know a built-in one.
 *
 * The files are loaded with a synchronous `require()` (Node 24 strips their types and loads ES modules that way), so
 * the one validation pipeline (check.ts) stays synchronous.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { Component, Kind } from '../../runtime/component/define.ts';
import { createRegistry, type Registry } from '../../runtime/component/registry.ts';
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';
import { defaultRegistry } from '../../worker/registry.ts';

/** One component a project file exports. */
export interface OwnComponent {
  /** The file's absolute path. */
  file: string;
  /** The name the file exports it as (the build imports it by that name). */
  exportName: string;
  component: Component;
}

export interface OwnComponents {
  components: OwnComponent[];
  /** Built-in components plus the project's own. */
  registry: Registry;
  /** Files that are missing, export no component, or clash with a built-in name: at their `components:` entry. */
  problems: ManifestProblem[];
}

const NAME = /^[a-z][a-z0-9_-]*$/;
const FIELD = {
  verifier: 'verifiers',
  handshake: 'handshakes',
  step: 'steps',
  action: 'actions',
  auth: 'auth',
  endpoint: 'endpoints',
} as const satisfies Record<Kind, keyof Registry>;

/** Whether an export is a component (what defineComponent returns), by its shape. */
function isComponent(value: unknown): value is Component {
  const c = value as Partial<Component> | null;
  return (
    !!c &&
    typeof c === 'object' &&
    (c.kind as Kind) in FIELD &&
    typeof c.name === 'string' &&
    typeof c.create === 'function' &&
    !!c.spec &&
    typeof c.spec === 'object'
  );
}

/** The `components:` list of a parsed manifest (the base; environments cannot change it). */
export function componentFiles(value: unknown): unknown[] {
  const list = (value as { components?: unknown } | null)?.components;
  return Array.isArray(list) ? list : [];
}

/**
 * Loads the components a manifest names (paths relative to `manifestPath`) and builds the project's registry.
 * A manifest that names none gets the built-in registry itself.
 * @example const { registry, problems } = loadOwnComponents('integrations.yaml', parsed.value)
 */
export function loadOwnComponents(
  manifestPath: string,
  value: unknown,
  base: Registry = defaultRegistry,
): OwnComponents {
  const files = componentFiles(value);
  if (!files.length) return { components: [], registry: base, problems: [] };
  const dir = dirname(resolve(manifestPath));
  const require = createRequire(resolve(manifestPath));
  const problems: ManifestProblem[] = [];
  const components: OwnComponent[] = [];
  const builtIn = new Set(base.all);
  const titles = new Map(base.all.map((c) => [c.title, c]));
  files.forEach((entry, i) => {
    if (typeof entry !== 'string') return; // the schema says what is wrong with it
    const path: (string | number)[] = ['components', i];
    const file = resolve(dir, entry);
    if (!existsSync(file)) {
      problems.push({ path, message: `component file ${entry} not found (paths are relative to the manifest)` });
      return;
    }
    let exports: Record<string, unknown>;
    try {
      exports = require(file) as Record<string, unknown>;
    } catch (error) {
      problems.push({
        path,
        message: `component file ${entry} does not load: ${(error as Error).message.split('\n')[0]}`,
      });
      return;
    }
    const found = Object.entries(exports).filter(([, v]) => isComponent(v) && !builtIn.has(v)) as [string, Component][];
    if (!found.length)
      problems.push({
        path,
        message: `component file ${entry} exports no component: export what defineComponent returns (export const myAction = defineComponent({ kind: 'action', … }))`,
      });
    for (const [exportName, component] of found) {
      const label = `${component.kind} ${JSON.stringify(component.name)} (${entry}, export ${exportName})`;
      const same = base[FIELD[component.kind]] as ReadonlyMap<string, Component>;
      if (!NAME.test(component.name))
        problems.push({
          path,
          message: `${label}: a name is lower-case letters, digits, - and _, starting with a letter`,
        });
      else if (same.has(component.name))
        problems.push({
          path,
          message: `${label} has the name of a built-in ${component.kind}: give it another name (e.g. "my-${component.name}")`,
        });
      else if (components.some((o) => o.component.kind === component.kind && o.component.name === component.name))
        problems.push({
          path,
          message: `${label}: another of the project's components is also a ${component.kind} named ${JSON.stringify(component.name)}`,
        });
      else if (titles.has(component.title))
        problems.push({
          path,
          message: `${label}: its title ${component.title} is already the schema type of ${titles.get(component.title)!.kind} ${titles.get(component.title)!.name}; choose another title`,
        });
      else {
        titles.set(component.title, component);
        components.push({ file, exportName, component });
      }
    }
  });
  return { components, registry: createRegistry([...base.all, ...components.map((o) => o.component)]), problems };
}
