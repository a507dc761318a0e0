#!/usr/bin/env node
// `npm create switchyard@latest my-app`: `switchyard init my-app` (cli/create.ts; dist/cli/create.js in the package).
import { existsSync } from 'node:fs';

const source = new URL('../cli/create.ts', import.meta.url);
await import(
  existsSync(source) && process.features.typescript ? source : new URL('../dist/cli/create.js', import.meta.url)
);
