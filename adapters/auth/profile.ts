/** The `profile:` options auth adapters share, and their parsing. */
import { parseDuration } from '../../runtime/lib/duration.ts';

export const profileTtlSchema = { $ref: '#/definitions/Duration', description: 'How long a fetched profile is cached in KV (default 5m).' } as const;

export const profileTtlSeconds = (ttl: string | undefined) => Math.round(parseDuration(ttl ?? '5m') / 1000);
