/**
 * What a schema cannot say about one `limits:` entry. Its shape and defaults are declared in sections/limits.ts; the
 * stages count against the compiled limits (consumer/limits.ts).
 */

/** What a schema cannot say about one `limits:` entry (its defaults applied): which options fit what it counts. */
export function limitProblems(
  spec: { counts?: string; per?: unknown; per_recipient?: boolean; on_exceed?: string },
  at: (string | number)[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const counts = spec.counts!;
  if (spec.per !== undefined && spec.per_recipient)
    problems.push({ path: [...at, 'per_recipient'], message: 'use per or per_recipient, not both' });
  if (counts !== 'sends' && (spec.per !== undefined || spec.per_recipient))
    problems.push({
      path: [...at, spec.per !== undefined ? 'per' : 'per_recipient'],
      message: `a limit that counts ${counts} is counted as a whole: per applies to sends`,
    });
  // A count of users must never lock them out unannounced: past it, switchyard warns and serves.
  if (counts === 'active_users' && spec.on_exceed !== 'warn')
    problems.push({
      path: [...at, 'on_exceed'],
      message: 'a limit on active users only warns: switchyard never refuses a signed-in user over a count',
    });
  if (counts === 'tracked_events' && spec.on_exceed === 'defer')
    problems.push({
      path: [...at, 'on_exceed'],
      message: 'tracked events cannot wait for the next period: use warn or drop',
    });
  return problems;
}
