/** The Cloudinary upload endpoint's transformation, format, delivery URLs and per-request R2 backup. */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { cloudinarySignature } from '../../adapters/endpoints/cloudinary-upload.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, harness } from '../support/harness.ts';
import { clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';

let key: TestKey;
beforeAll(async () => {
  key = await testKey('cl1');
});

function withUploads(options: Record<string, unknown>): Manifest {
  const m = structuredClone(defaultManifest);
  Object.assign(m.routes!.uploads!.endpoint!, options);
  return m;
}

/** The route with `options` over the default manifest's, and a fake Cloudinary that answers as its upload API does. */
function setup(options: Record<string, unknown>, upload: Record<string, unknown> = {}) {
  const fake = new FakeProviders();
  fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  fake.on(/api\.cloudinary\.com\/v1_1\/demo\/auto\/upload/, () =>
    Response.json({
      public_id: 'uploads/user_123/p1',
      version: 1750000001,
      format: 'webp',
      resource_type: 'image',
      type: 'upload',
      width: 800,
      height: 600,
      bytes: 4,
      secure_url: 'https://res.cloudinary.com/demo/image/upload/v1750000001/uploads/user_123/p1.webp',
      ...upload,
    }),
  );
  const h = harness({
    compiled: compileManifest(withUploads(options), defaultRegistry),
    fetch: fake.fetch,
    env: { CLOUDINARY_API_KEY: 'cl_key', CLOUDINARY_API_SECRET: 'cl_secret' },
  });
  const post = async (fields: Record<string, string> = {}) => {
    const form = new FormData();
    form.set('file', new File([new Uint8Array([137, 80, 78, 71])], 'logo.png', { type: 'image/png' }));
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    return h.request('/v1/uploads', {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${await clerkToken(key)}` },
    });
  };
  const sent = () => fake.forms.get(fake.requests.findIndex((r) => r.url.includes('api.cloudinary.com')))!;
  return { fake, h, post, sent };
}

type Answer = {
  public_id: string;
  url: string;
  format?: string;
  url_template: string;
  urls?: Record<string, string>;
  backup_key?: string;
  backup?: string;
  width?: number;
};

describe('cloudinary-upload', () => {
  it('signs the transformation and format with the other parameters, and answers with format and delivery URLs', async () => {
    const { post, sent } = setup({
      transformation: 'c_limit,w_2000',
      format: 'webp',
      urls: { thumb: 'c_fill,w_200,h_200', avatar: 'c_thumb,g_face,w_64/r_max' },
    });
    const res = await post();
    expect(res.status).toBe(201);
    const form = sent();
    const params = Object.fromEntries(
      ['folder', 'public_id', 'timestamp', 'transformation', 'format'].map((k) => [k, form.get(k) as string]),
    );
    expect(params).toMatchObject({ folder: 'uploads/user_123', transformation: 'c_limit,w_2000', format: 'webp' });
    expect(form.get('signature')).toBe(await cloudinarySignature(params, 'cl_secret', 'sha256'));
    expect([...form.keys()].sort()).toEqual([
      'api_key',
      'file',
      'folder',
      'format',
      'public_id',
      'signature',
      'timestamp',
      'transformation',
    ]);
    const body = (await res.json()) as Answer;
    expect(body).toMatchObject({ public_id: 'uploads/user_123/p1', format: 'webp', width: 800 });
    expect(body.url_template).toBe(
      'https://res.cloudinary.com/demo/image/upload/{transformation}/v1750000001/uploads/user_123/p1.webp',
    );
    expect(body.urls).toEqual({
      thumb: 'https://res.cloudinary.com/demo/image/upload/c_fill,w_200,h_200/v1750000001/uploads/user_123/p1.webp',
      avatar:
        'https://res.cloudinary.com/demo/image/upload/c_thumb,g_face,w_64/r_max/v1750000001/uploads/user_123/p1.webp',
    });
  });

  it('signs no transformation or format when the route declares none', async () => {
    const { post, sent } = setup({ backup_binding: undefined });
    expect((await post()).status).toBe(201);
    expect(sent().get('transformation')).toBeNull();
    expect(sent().get('format')).toBeNull();
  });

  it('keeps the original in R2 with the Cloudinary URL in its metadata, only when the request asks (backup: on_request)', async () => {
    const { post } = setup({ backup: 'on_request' });
    const without = (await (await post()).json()) as Answer;
    expect(without.backup_key).toBeUndefined();
    const asked = await post({ backup: 'true' });
    expect(asked.status).toBe(201);
    const body = (await asked.json()) as Answer;
    const object = await (env.UPLOADS as R2Bucket).get(body.backup_key!);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect(object!.customMetadata).toMatchObject({
      user: 'user_123',
      original_name: 'logo.png',
      cloudinary_public_id: 'uploads/user_123/p1',
      cloudinary_url: 'https://res.cloudinary.com/demo/image/upload/v1750000001/uploads/user_123/p1.webp',
    });
  });

  it('refuses a backup request where the route keeps none (400), and keeps every original under backup: always', async () => {
    const none = setup({ backup_binding: undefined });
    const refused = await none.post({ backup: 'true' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { reason: string }).reason).toBe('backup_not_allowed');
    expect(none.fake.to(/cloudinary/)).toHaveLength(0);
    const always = setup({ backup: 'always' });
    const body = (await (await always.post()).json()) as Answer;
    expect((await (env.UPLOADS as R2Bucket).head(body.backup_key!))?.customMetadata?.cloudinary_url).toContain(
      'res.cloudinary.com',
    );
  });

  it('answers 201 with backup: failed when R2 refuses after Cloudinary stored the file', async () => {
    const { h, post } = setup({ backup: 'always' });
    h.env.UPLOADS = { put: () => Promise.reject(new Error('R2 unavailable')) };
    const res = await post();
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ public_id: 'uploads/user_123/p1', backup: 'failed' });
    expect(h.events.some((e) => e.kind === 'runtime.error' && e.where === 'routes.uploads.backup')).toBe(true);
  });

  it('refuses a malformed transformation and backup without a bucket at load time', () => {
    expect(() =>
      compileManifest(withUploads({ backup: 'on_request', backup_binding: undefined }), defaultRegistry),
    ).toThrow(ManifestError);
    expect(() => compileManifest(withUploads({ transformation: 'w_200 /x' }), defaultRegistry)).toThrow(
      /not a Cloudinary transformation/,
    );
    expect(() => compileManifest(withUploads({ urls: { thumb: '../x' } }), defaultRegistry)).toThrow(
      /not a Cloudinary transformation/,
    );
  });
});
