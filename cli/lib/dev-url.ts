/**
 * Where the running dev server is. `switchyard dev` writes its URL to `.switchyard/dev-url` (git-ignored) once it
 * answers /healthz and removes it on exit; commands that talk to the Worker find it there (see server.ts serverUrl).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeIfChanged, type Project } from './project.ts';

export const DEFAULT_DEV_PORT = 8787;
export const DEV_URL_FILE = 'dev-url';

const fileOf = (project: Project) => join(project.buildDir, DEV_URL_FILE);

/** The URL the project's running dev server recorded, if any. */
export function readDevUrl(project: Project): string | undefined {
  const file = fileOf(project);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

export function writeDevUrl(project: Project, url: string): void {
  writeIfChanged(fileOf(project), `${url}\n`);
}

/** Removes the recorded URL if it is still this server's (a second dev server may have replaced it). */
export function clearDevUrl(project: Project, url: string): void {
  if (readDevUrl(project) === url) rmSync(fileOf(project), { force: true });
}
