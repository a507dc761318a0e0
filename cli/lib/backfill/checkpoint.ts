/**
 * A backfill's checkpoint: one JSON file per environment, integration and object kind in `.switchyard/backfill/`,
 * written (to a temporary file, then renamed: never half a file) after each page the server has taken whole. A crash
 * or Ctrl-C loses at most the page in flight, which the next run sends again: its events carry the same ids, so the
 * event log's dedup writes them once.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cursor } from './pager.ts';

export interface Checkpoint {
  integration: string;
  object: string;
  environment: string;
  url: string;
  since: string | null;
  /** Where the next page starts (null: from the first page). */
  cursor: Cursor | null;
  listed: number;
  sent: number;
  skipped: number;
  counts: Record<string, number>;
  total: number | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

export const checkpointPath = (root: string, env: string, integration: string, object: string) =>
  join(root, '.switchyard', 'backfill', `${env}-${integration}-${object}.json`);

export function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
}

export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(checkpoint, null, 2)}\n`);
  renameSync(tmp, path);
}
