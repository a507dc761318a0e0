/**
 * The files `switchyard dev` follows (the manifest, the templates and component files it names, wrangler.toml, the
 * secrets files and the migrations folder), and a watcher that reports each burst of edits to them once.
 */
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { componentFiles } from './own-components.ts';

/** What a change to one of the dev loop's inputs asks for. */
export type DevInput = 'manifest' | 'template' | 'component' | 'secrets' | 'example' | 'migration' | 'wrangler';

/** The files the dev loop follows, by absolute path, and the folders whose new `.sql` files are migrations. */
export interface DevInputs {
  files: Map<string, DevInput>;
  migrations: string;
}

/** The manifest as YAML, or undefined while it does not parse (the build reports why). */
function parsed(manifestPath: string): unknown {
  try {
    return parseYaml(readFileSync(manifestPath, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The files a manifest's `components:` names, as absolute paths; none if it does not parse. */
export function ownComponentFiles(manifestPath: string): string[] {
  return componentFiles(parsed(manifestPath))
    .filter((f): f is string => typeof f === 'string')
    .map((f) => resolve(dirname(manifestPath), f));
}

/** Every `html_file` / `text_file` a manifest names (any environment), as absolute paths; none if it does not parse. */
export function templateFiles(manifestPath: string): string[] {
  const doc = parsed(manifestPath);
  if (doc === undefined) return [];
  const out = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value)) {
      if ((key === 'html_file' || key === 'text_file') && typeof v === 'string')
        out.add(resolve(dirname(manifestPath), v));
      else walk(v);
    }
  };
  walk(doc);
  return [...out];
}

/** Which input a changed path is, if the dev loop follows it. */
export function classify(inputs: DevInputs, path: string): DevInput | undefined {
  const known = inputs.files.get(path);
  if (known) return known;
  return dirname(path) === inputs.migrations && path.endsWith('.sql') ? 'migration' : undefined;
}

/**
 * Watches the folders of the dev loop's inputs (folders, not files: an atomic save replaces the file's inode) and
 * reports each burst of changes once, as the set of inputs it touched. `refresh` re-reads the inputs (a manifest
 * edit can name a new template folder).
 */
export function watchInputs(
  read: () => DevInputs,
  onChange: (changed: Set<DevInput>, paths: string[]) => void,
  debounceMs = 150,
): { refresh(): void; close(): void } {
  let inputs = read();
  const watchers = new Map<string, FSWatcher>();
  let changed = new Set<DevInput>();
  let paths = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const folders = () => new Set([...[...inputs.files.keys()].map((f) => dirname(f)), inputs.migrations]);
  const arm = () => {
    for (const dir of folders()) {
      if (watchers.has(dir) || !existsSync(dir)) continue;
      const watcher = watch(dir, (_event, filename) => {
        if (filename === null) return;
        const path = join(dir, filename.toString());
        const kind = classify(inputs, path);
        if (!kind) return;
        changed.add(kind);
        paths.add(path);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const [kinds, files] = [changed, [...paths]];
          changed = new Set();
          paths = new Set();
          onChange(kinds, files);
        }, debounceMs);
      });
      watchers.set(dir, watcher);
    }
  };
  arm();
  return {
    refresh() {
      inputs = read();
      arm();
    },
    close() {
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
