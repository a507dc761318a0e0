/** Where a project's files are, relative to its manifest, and small file helpers for commands. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The switchyard checkout this CLI belongs to (schemas/, adapters/ and runtime/ live here). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Project {
  root: string;
  manifest: string;
  wrangler: string;
  migrations: string;
  devVarsExample: string;
  readme: string;
  buildDir: string;
}

/** The nearest `integrations.yaml` at or above `dir` (the way wrangler finds wrangler.toml), else the one in `dir`. */
export function findManifest(dir = process.cwd()): string {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, 'integrations.yaml'))) return join(at, 'integrations.yaml');
    if (dirname(at) === at) return resolve(dir, 'integrations.yaml');
  }
}

/**
 * Resolves a project from its manifest path (default: `integrations.yaml`, found by walking up). The
 * project root is the nearest folder at or above the manifest that has a wrangler.toml, so example manifests
 * in subfolders are checked against the project's own bindings, migrations and secret lists.
 */
export function projectFor(manifestPath?: string): Project {
  const manifest = manifestPath ? resolve(manifestPath) : findManifest();
  let root = dirname(manifest);
  while (!existsSync(join(root, 'wrangler.toml')) && dirname(root) !== root) root = dirname(root);
  if (!existsSync(join(root, 'wrangler.toml'))) root = dirname(manifest);
  return {
    root,
    manifest,
    wrangler: join(root, 'wrangler.toml'),
    migrations: join(root, 'migrations'),
    devVarsExample: join(root, '.dev.vars.example'),
    readme: join(root, 'README.md'),
    buildDir: join(root, '.switchyard'),
  };
}

export function readText(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Writes a file only when its content changes, so watchers do not reload for nothing. */
export function writeIfChanged(path: string, content: string): boolean {
  if (readText(path) === content) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return true;
}
