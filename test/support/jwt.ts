/** Test keys and tokens: an RS256 key pair as a JWKS, and tokens signed with jose. */
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: Record<string, unknown>;
}

export async function testKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey: privateKey as CryptoKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

export const jwks = (...keys: TestKey[]) => ({ keys: keys.map((k) => k.publicJwk) });

export const CLERK_ISSUER = 'https://example.clerk.accounts.dev';

/** A Clerk-style session token for the default manifest's provider, valid for 5 minutes unless claims override. */
export async function clerkToken(
  key: TestKey,
  claims: JWTPayload = {},
  options: { alg?: string; kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: CLERK_ISSUER,
    sub: 'user_123',
    azp: 'https://app.example.com',
    iat: now,
    exp: now + 300,
    email: 'ada@example.com',
    ...claims,
  })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** Fake providers serving a JWKS with one fresh key, and a Clerk token signed by it: for requests to routes behind auth. */
export async function signedIn(
  kid: string,
): Promise<{ fake: import('./fake-providers.ts').FakeProviders; token: string }> {
  const { FakeProviders } = await import('./fake-providers.ts');
  const key = await testKey(kid);
  const fake = new FakeProviders();
  fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  return { fake, token: await clerkToken(key) };
}
