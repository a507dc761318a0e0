/**
 * Profile enrichment: the full user from the provider's API (Clerk Backend API, Auth0 Management API, Supabase
 * admin API), cached in KV for the provider's `profile.ttl`. It enriches a request; it never blocks one: when the
 * provider cannot be reached the request goes on without a profile and the failure is logged.
 */
import type { AuthenticatedUser } from '../component/auth.ts';
import { kvExpirationTtl } from '../lib/kv.ts';
import type { Emit } from '../lib/telemetry.ts';
import type { ProfileIO, ProfileSource } from '../component/auth.ts';

export async function loadProfile(
  source: ProfileSource,
  user: AuthenticatedUser,
  io: ProfileIO,
  emit: Emit,
): Promise<Record<string, unknown> | undefined> {
  const key = `profile:${user.provider}:${user.sub}`;
  const cached = io.kv ? await io.kv.get<{ profile: Record<string, unknown>; expires: number }>(key, 'json') : null;
  if (cached && cached.expires > io.now) return cached.profile;
  try {
    const profile = await source.fetch(user.sub, io);
    await io.kv?.put(key, JSON.stringify({ profile, expires: io.now + source.ttlSeconds * 1000 }), {
      expirationTtl: kvExpirationTtl(source.ttlSeconds),
    });
    return profile;
  } catch (error) {
    emit({
      kind: 'runtime.error',
      where: `auth.${user.provider}.profile`,
      error: error instanceof Error ? error.message : String(error),
    });
    return cached?.profile;
  }
}
