/**
 * `switchyard validate [--env NAME] [--budget [--json]] [FILE]`: checks the manifest for one environment, or every
 * environment, and lists every problem as file:line:column. Exits 1 when there is any. `--budget` appends each
 * handler's cost per event and the capacity it implies.
 */
import { parseArgs } from '../lib/args.ts';
import { checkProject, type Problem } from '../lib/check.ts';
import { projectFor } from '../lib/project.ts';
import { printBudget } from './plan.ts';
import { formatPath } from '../../runtime/manifest/problems.ts';

export function formatProblem(p: Problem, level: 'error' | 'warning' = 'error'): string {
  const envs = p.environments.length ? ` [${p.environments.join(', ')}]` : '';
  const at = p.path.length ? `${formatPath(p.path)}: ` : '';
  return `${p.file}:${p.line}:${p.column}: ${level}${envs}: ${at}${p.message}`;
}

export async function validateCommand(args: string[]): Promise<number> {
  const { flags, positional } = parseArgs(args, ['env']);
  const env = flags.get('env');
  const project = projectFor(positional[0]);
  const result = checkProject(project, typeof env === 'string' ? { environments: [env] } : {});
  for (const problem of result.problems) console.error(formatProblem(problem));
  for (const warning of result.warnings) (flags.has('json') ? console.error : console.log)(formatProblem(warning, 'warning'));
  if (result.problems.length) {
    console.error(`\n${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} found`);
    return 1;
  }
  console.log(`${project.manifest}: valid for ${result.builds.map((b) => `${b.name} (${b.hash.slice(0, 12)})`).join(', ')}`);
  if (flags.has('budget')) {
    console.log('');
    return printBudget(result.builds.filter((b) => b.name === (typeof env === 'string' ? env : 'default')), flags.has('json'));
  }
  return 0;
}
