/**
 * This repository's Worker entry: the cookbook app's build (.switchyard/, written by `switchyard build`) handed to
 * `createWorker` (worker/entry.ts). A project made by `npm create switchyard` deploys the same few lines, generated
 * into its own .switchyard/worker.ts.
 */
import built from '../.switchyard/manifests.json';
import { validators } from '../.switchyard/manifests.validators.ts';
// The drivers the built manifests need (pg only if one has a postgres store): this entry is the composition root.
import { connectPostgres } from '../.switchyard/manifests.drivers.ts';
// The adapters they use, and no others (the CLI and tests have them all, in worker/registry.ts).
import { registry } from '../.switchyard/manifests.registry.ts';
// The dashboard's pages, inlined by the build from runtime/operations/dashboard/.
import { dashboard } from '../.switchyard/dashboard.ts';
import { createWorker } from './entry.ts';

const worker = createWorker({ built, validators, connectPostgres, registry, dashboard });

/** The Service Binding entrypoint (worker/entry.ts says how to bind it). */
export class SwitchyardEntrypoint extends worker.SwitchyardEntrypoint {}

export default worker.handler;
