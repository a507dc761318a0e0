#!/usr/bin/env node
// The `switchyard` executable. In this repository (cli/ present, a Node that strips types) it runs the TypeScript
// sources; in the npm package it runs the JavaScript `npm run build:package` wrote to dist/ (Node 20, 22, 24).
import { existsSync } from 'node:fs';

const source = new URL('../cli/bin.ts', import.meta.url);
await import(
  existsSync(source) && process.features.typescript ? source : new URL('../dist/cli/switchyard.js', import.meta.url)
);
