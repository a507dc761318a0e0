/** A problem found in a manifest: where (a path into the document) and what, in words for a person. */
export interface ManifestProblem {
  path: (string | number)[];
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
  /** A warning is reported but does not fail validation or the build. */
  severity?: 'warning';
}

/** Thrown when a manifest does not compile; carries every problem, not only the first. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly problems: ManifestProblem[];
  constructor(problems: ManifestProblem[]) {
    super(problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

/** `integrations.stripe.handlers[0].steps[1]` style, for messages. */
export function formatPath(path: (string | number)[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(root)';
}
