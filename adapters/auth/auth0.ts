import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import {
  commonAuth,
  commonAuthSpec,
  profileJson,
  userFields,
  userSegment,
  type AuthHooks,
  type ProfileIO,
  type ProfileSource,
} from '../../runtime/component/auth.ts';
import { KV_MIN_TTL_SECONDS } from '../../runtime/lib/kv.ts';
import { profileTtl, ttlSeconds } from './profile.ts';

/** A management token is reused until this long before it expires. */
export const MANAGEMENT_TOKEN_MARGIN_SECONDS = 300;

const profileSpec = {
  client_id: field.secret().describe('Env var with a machine-to-machine client id for the Management API.'),
  client_secret: field.secret().describe('Env var with its client secret.'),
  ttl: profileTtl,
};

/** Auth0 access tokens: issuer `https://<domain>/`, the tenant's JWKS, and the API's audience. */
export const auth0Auth = defineComponent({
  kind: 'auth',
  name: 'auth0',
  title: 'Auth0Auth',
  description: 'Auth0 access tokens (RS256 via the tenant JWKS; issuer and audience checked).',
  spec: {
    domain: field.string({ pattern: '^[a-z0-9.-]+$' }).describe('Tenant domain, e.g. example.us.auth0.com.'),
    audience: field
      .schema<string | string[]>({
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
      })
      .describe('The API identifier the tokens are for.'),
    algorithms: field
      .list(field.enum(['RS256', 'PS256']), { minItems: 1 })
      .default(['RS256'])
      .describe('The algorithms a token may be signed with.'),
    ...commonAuthSpec,
    profile: field
      .object(profileSpec)
      .optional()
      .describe('Fetch the full user from the Management API (GET /api/v2/users/{id}).'),
  },
  example: { type: 'auth0', domain: 'example.us.auth0.com', audience: 'https://api.example.com' },
  create(options): AuthHooks {
    return {
      jwksUrl: `https://${options.domain}/.well-known/jwks.json`,
      issuer: `https://${options.domain}/`,
      audience: options.audience,
      algorithms: options.algorithms,
      ...commonAuth(options),
      ...(options.profile ? { profile: auth0Profile(options.domain, options.profile) } : {}),
      user: auth0User,
    };
  },
});

/** Auth0's Management API user: `email`, `name`, `user_metadata`, `created_at` (ISO). Access tokens carry none of it. */
export const auth0User: NonNullable<AuthHooks['user']> = (claims, profile) => {
  const { text, record, iso } = userFields;
  if (!profile) return {};
  return {
    email: text(profile.email) ?? text(claims.email),
    name: text(profile.name),
    metadata: record(profile.user_metadata) ?? {},
    created_at: iso(profile.created_at),
  };
};

/**
 * Profiles through the Management API. Its token (client credentials) is kept in KV, and in the isolate, until
 * five minutes before it expires, so most profile fetches cost one request.
 */
function auth0Profile(domain: string, options: Options<typeof profileSpec>): ProfileSource {
  let memo: { token: string; until: number } | undefined;
  const tokenKey = `auth0-management-token:${domain}`;
  async function managementToken(io: ProfileIO): Promise<string> {
    if (memo && memo.until > io.now) return memo.token;
    const stored = io.kv ? await io.kv.get<{ token: string; until: number }>(tokenKey, 'json') : null;
    if (stored && stored.until > io.now) return (memo = stored).token;
    const [clientId, clientSecret] = readSecrets(io.env, [options.client_id, options.client_secret]);
    const res = await io.fetch(`https://${domain}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        audience: `https://${domain}/api/v2/`,
      }),
    });
    const { access_token, expires_in } = (await profileJson('auth0', res)) as {
      access_token: string;
      expires_in: number;
    };
    const lifetime = Math.max(0, expires_in - MANAGEMENT_TOKEN_MARGIN_SECONDS);
    memo = { token: access_token, until: io.now + lifetime * 1000 };
    if (lifetime >= KV_MIN_TTL_SECONDS) await io.kv?.put(tokenKey, JSON.stringify(memo), { expirationTtl: lifetime });
    return access_token;
  }
  return {
    ttlSeconds: ttlSeconds(options.ttl),
    async fetch(sub, io) {
      const token = await managementToken(io);
      return profileJson(
        'auth0',
        await io.fetch(`https://${domain}/api/v2/users/${userSegment(sub)}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    },
  };
}
