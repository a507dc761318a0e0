import { describe, expect, it } from 'vitest';
import { MissingSecretError } from '../../runtime/component/context.ts';
import { clerkAuth } from './clerk.ts';
import { supabaseAuth } from './supabase.ts';
import { jwtAuth } from './jwt.ts';
import { auth0Auth } from './auth0.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { build, defineComponent } from '../../runtime/component/define.ts';
import { createRegistry } from '../../runtime/component/registry.ts';
import type { AuthHooks } from '../../runtime/component/auth.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { AuthProvider } from '../../runtime/manifest/types.gen.ts';

describe('auth provider components', () => {
  it('every registered provider builds from its own example, with the declared defaults applied', () => {
    for (const component of defaultRegistry.auth.values()) {
      const hooks = build(component, component.example, undefined);
      expect(hooks.clockToleranceSeconds, component.name).toBe(5);
      expect(hooks.requiredClaims, component.name).toEqual([]);
      expect(hooks.algorithms.length, component.name).toBeGreaterThan(0);
    }
  });

  it('parses clock_tolerance and a profile ttl as durations', () => {
    const hooks = build(
      auth0Auth,
      { ...auth0Auth.example, clock_tolerance: '30s', profile: { client_id: 'A_ID', client_secret: 'A_SECRET' } },
      undefined,
    );
    expect(hooks.clockToleranceSeconds).toBe(30);
    expect(hooks.algorithms).toEqual(['RS256']);
    expect(hooks.profile?.ttlSeconds).toBe(300);
    expect(
      build(clerkAuth, { ...clerkAuth.example, profile: { secret_key: 'CLERK_SECRET_KEY', ttl: '1m' } }, undefined)
        .profile?.ttlSeconds,
    ).toBe(60);
  });

  it("Supabase's legacy secret is its own key hook, pinned to HS256 and read from the environment (failing closed)", () => {
    const hooks = build(
      supabaseAuth,
      { type: 'supabase', project_url: 'https://abcd.supabase.co/', jwt_secret: 'SUPABASE_JWT_SECRET' },
      undefined,
    );
    expect(hooks.algorithms).toEqual(['HS256']);
    expect(hooks.jwksUrl).toBeUndefined();
    expect(hooks.audience).toBe('authenticated');
    expect(hooks.issuer).toBe('https://abcd.supabase.co/auth/v1');
    expect(new TextDecoder().decode(hooks.key!({ SUPABASE_JWT_SECRET: ' s3cret ' }))).toBe('s3cret');
    expect(() => hooks.key!({})).toThrow(MissingSecretError);
    const jwks = build(supabaseAuth, supabaseAuth.example, undefined);
    expect(jwks.key).toBeUndefined();
    expect(jwks.jwksUrl).toBe('https://abcd.supabase.co/auth/v1/.well-known/jwks.json');
  });

  it("Clerk's azp is its own check: another origin is refused, a listed one or none passes", () => {
    const hooks = build(clerkAuth, clerkAuth.example, undefined);
    expect(hooks.check!({ azp: 'https://evil.example.com' })).toBe('azp_not_allowed');
    expect(hooks.check!({ azp: 'https://app.example.com' })).toBeUndefined();
    expect(hooks.check!({})).toBeUndefined();
    expect(clerkAuth.reasons).toContain('azp_not_allowed');
    expect(
      build(clerkAuth, { type: 'clerk', issuer: 'https://example.clerk.accounts.dev' }, undefined).check,
    ).toBeUndefined();
  });

  it('the generic jwt provider takes an HS256 secret through the key hook and refuses mixing it with a JWKS', () => {
    const hooks = build(
      jwtAuth,
      { type: 'jwt', hs256_secret: 'JWT_SECRET', audience: 'api', algorithms: ['HS256'] },
      undefined,
    );
    expect(new TextDecoder().decode(hooks.key!({ JWT_SECRET: 'k' }))).toBe('k');
    expect(() => build(jwtAuth, { ...jwtAuth.example, algorithms: ['RS256', 'HS256'] }, undefined)).toThrow(
      /HS256 cannot be used with a JWKS/,
    );
    expect(() =>
      build(jwtAuth, { type: 'jwt', jwks_url: 'https://a.test/jwks', algorithms: ['RS256'] }, undefined),
    ).toThrow(/set issuer or audience/);
  });

  it('a provider whose hooks disagree with its algorithms is refused at compile: HS* with a JWKS, RS* with a shared key', () => {
    const fake = (hooks: Partial<AuthHooks>) =>
      defineComponent({
        kind: 'auth',
        name: 'fake',
        title: 'FakeAuth',
        description: 'test',
        spec: {},
        example: { type: 'fake' },
        create: () => ({ algorithms: ['RS256'], clockToleranceSeconds: 5, requiredClaims: [], ...hooks }),
      });
    const compile = (hooks: Partial<AuthHooks>) => () =>
      compileManifest(
        { version: 1, queues: {}, integrations: {}, auth: { app: { type: 'fake' } as unknown as AuthProvider } },
        createRegistry([fake(hooks)]),
      );
    expect(compile({ jwksUrl: 'https://auth.example.com/jwks', algorithms: ['HS256'] })).toThrow(
      /auth\.app\.type: HS256 needs a shared key, not a JWKS/,
    );
    expect(compile({ key: () => new Uint8Array(32), algorithms: ['HS256', 'RS256'] })).toThrow(
      /a shared key verifies HS\* tokens only, not RS256/,
    );
    expect(compile({})).toThrow(/neither a JWKS URL nor a key/);
    expect(compile({ jwksUrl: 'https://auth.example.com/jwks' })).not.toThrow();
  });
});
