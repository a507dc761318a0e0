/** `npm create switchyard@latest my-app` (the `create-switchyard` executable): `switchyard init` by another name. */
import { initCommand } from './commands/init.ts';

process.exitCode = await initCommand(process.argv.slice(2));
