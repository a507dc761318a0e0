/** Minimal flag parsing: `--name value` and `--flag`, the rest positional. */
export function parseArgs(args: string[], valued: string[] = []): { flags: Map<string, string | true>; positional: string[] } {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      if (inline !== undefined) flags.set(name, inline);
      else if (valued.includes(name)) {
        const value = args[++i];
        if (value === undefined) throw new Error(`--${name} needs a value`);
        flags.set(name, value);
      } else flags.set(name, true);
    } else positional.push(arg);
  }
  return { flags, positional };
}
