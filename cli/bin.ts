/**
 * The `switchyard` executable as the package ships it (dist/cli/switchyard.js): plain JavaScript that runs on Node 20,
 * 22 and 24. `init` (making a project) runs on any of them; every other command loads the whole CLI, which needs
 * Node >= 22.12 (wrangler's floor, and node:sqlite): a project made by `init` installs Node 24 for its npm scripts.
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const command = process.argv[2];

if (command === 'init') {
  const { initCommand } = await import('./commands/init.ts');
  process.exitCode = await initCommand(process.argv.slice(3));
} else if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`switchyard ${command ?? ''}: needs Node >= 22.12 (this is ${process.version}); wrangler does too.
Run it through npm (npm run dev, npx switchyard ...): a project made by \`npm create switchyard\` installs Node 24
(the npm package \`node\`) for its scripts.`);
  process.exitCode = 1;
} else {
  await import('./switchyard.ts');
}

export {};
