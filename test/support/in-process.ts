/** The CLI's commands run in this process, for the fast tier: the same exit code and output, without spawning Node. */
import { capture } from '../../cli/lib/output.ts';
import { testCommand } from '../../cli/commands/test.ts';
import { validateCommand } from '../../cli/commands/validate.ts';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `switchyard validate ...args`, in-process. */
export async function validate(args: string[] = []): Promise<Run> {
  const { output, text } = capture();
  const code = await validateCommand(args, output);
  return { code, ...text() };
}

/** `switchyard test ...args`, in-process. Name the manifest in `args` (a copied project's), as the tests' cwd is the root. */
export async function manifestTests(args: string[] = []): Promise<Run> {
  const { output, text } = capture();
  const code = await testCommand(args, output);
  return { code, ...text() };
}
