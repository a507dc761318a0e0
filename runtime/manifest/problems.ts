/** A problem found in a manifest: where (a path into the document) and what, in words for a person. */
export interface ManifestProblem {
  path: (string | number)[];
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
  /** Point at this word inside the value (an SQL identifier), not at the value's start, and show the line with a caret. */
  word?: string;
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

/** An adapter's refusal of one of its options: the compiler reports it at that option's path. */
export class OptionError extends Error {
  override name = 'OptionError';
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/** `integrations.stripe.handlers[0].steps[1]` style, for messages. */
export function formatPath(path: (string | number)[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(root)';
}
