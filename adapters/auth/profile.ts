/** The `profile:` options auth providers share. */
import { field } from '../../runtime/component/spec.ts';

/** How long a fetched profile is cached in KV: a duration field, parsed to ms (`Math.round(ttl / 1000)` for KV). */
export const profileTtl = field.duration().default('5m').describe('How long a fetched profile is cached in KV.');

/** A profile's cache lifetime in whole seconds, as KV and ProfileSource take it. */
export const ttlSeconds = (ms: number) => Math.round(ms / 1000);
