import { readSecrets, secretRefSchema } from '../../runtime/adapter.ts';
import { toHex } from '../../runtime/bytes.ts';
import { parseSize } from '../../runtime/duration.ts';
import type { EndpointAdapter } from '../../runtime/endpoints.ts';
import { errorResponse, readBody } from '../../runtime/http.ts';
import { baseUrlSchema, trimSlash } from '../actions/message.ts';
import type { CloudinaryUploadEndpoint } from '../../runtime/manifest/types.gen.ts';

type UploadOptions = Omit<CloudinaryUploadEndpoint, 'type'>;

/** Room for the multipart boundaries and part headers around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Cloudinary's signature: the parameters (empty ones left out, arrays joined with commas) sorted by name, written
 * `name=value` and joined with `&` (an `&` inside a value escaped as %26, as the SDK's signature version 2 does),
 * the API secret appended, hashed with SHA-1 or SHA-256, hex.
 */
export async function cloudinarySignature(params: Record<string, string | number | string[] | undefined>, secret: string, algorithm: 'sha1' | 'sha256'): Promise<string> {
  const toSign = Object.entries(params)
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v] as const)
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26'))
    .join('&');
  const digest = await crypto.subtle.digest(algorithm === 'sha1' ? 'SHA-1' : 'SHA-256', new TextEncoder().encode(toSign + secret));
  return toHex(new Uint8Array(digest));
}

/**
 * `POST /v1/uploads` (multipart, field `file`): an authenticated upload, checked for size and type, optionally
 * backed up whole into R2 with its metadata, then uploaded to Cloudinary with a signed request. The browser never
 * sees the API secret.
 */
export const cloudinaryUploadEndpoint: EndpointAdapter<UploadOptions> = {
  type: 'cloudinary-upload',
  title: 'CloudinaryUploadEndpoint',
  description: 'Signed uploads to Cloudinary, with size and type limits and an optional R2 backup of the original.',
  auth: 'required',
  options: {
    properties: {
      cloud_name: { type: 'string', pattern: '^[a-z0-9_-]+$' },
      api_key: { ...secretRefSchema, description: 'Env var with the Cloudinary API key.' },
      api_secret: { ...secretRefSchema, description: 'Env var with the Cloudinary API secret.' },
      algorithm: { enum: ['sha1', 'sha256'], description: "Signature hash; must match the account's setting (default sha256)." },
      folder: { type: 'string', description: 'Cloudinary folder; each user\'s uploads go under <folder>/<user id>.' },
      resource_type: { enum: ['image', 'video', 'raw', 'auto'], description: 'Default auto.' },
      max_size: { $ref: '#/definitions/Size', description: 'Largest file accepted (default 10MiB).' },
      types: { type: 'array', items: { type: 'string', pattern: '^[a-z]+/[a-z0-9.+-]+$' }, description: 'Accepted MIME types (default any image).' },
      backup_bucket: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'R2 binding to keep the original in.' },
      base_url: baseUrlSchema,
    },
    required: ['cloud_name', 'api_key', 'api_secret'],
  },
  example: { type: 'cloudinary-upload', cloud_name: 'demo', api_key: 'CLOUDINARY_API_KEY', api_secret: 'CLOUDINARY_API_SECRET', folder: 'uploads', backup_bucket: 'UPLOADS' },
  create(options) {
    const base = trimSlash(options.base_url ?? 'https://api.cloudinary.com');
    const algorithm = options.algorithm ?? 'sha256';
    const maxSize = parseSize(options.max_size ?? '10MiB');
    const types = options.types;
    const resourceType = options.resource_type ?? 'auto';
    return async (ctx) => {
      // Bounded: the multipart envelope may add up to 64 KiB around the file; nothing more is ever buffered.
      const raw = await readBody(ctx.request, maxSize + MULTIPART_OVERHEAD);
      if (!raw) return errorResponse(413, { error: 'payload_too_large', message: `files up to ${maxSize} bytes` });
      let file: File | null;
      try {
        file = (await new Response(raw, { headers: { 'content-type': ctx.request.headers.get('content-type') ?? '' } }).formData()).get('file') as File | null;
      } catch {
        return errorResponse(400, { error: 'bad_request', message: 'send multipart/form-data with a "file" field' });
      }
      if (!file || typeof file === 'string') return errorResponse(400, { error: 'bad_request', message: 'send multipart/form-data with a "file" field' });
      if (file.size > maxSize) return errorResponse(413, { error: 'payload_too_large', message: `files up to ${maxSize} bytes` });
      const accepted = types ? types.includes(file.type) : file.type.startsWith('image/');
      if (!accepted) return errorResponse(415, { error: 'bad_request', message: `type ${file.type || 'unknown'} is not accepted`, reason: 'unsupported_type' });

      const user = ctx.user!.sub;
      const publicId = crypto.randomUUID();
      const folder = [options.folder, user.replace(/[^A-Za-z0-9_-]/g, '_')].filter(Boolean).join('/');
      const bytes = new Uint8Array(await file.arrayBuffer());
      let backupKey: string | undefined;
      if (options.backup_bucket) {
        const bucket = ctx.env[options.backup_bucket] as R2Bucket | undefined;
        if (!bucket) return errorResponse(500, { error: 'misconfigured', message: 'the upload backup bucket is not bound' });
        backupKey = `${folder}/${publicId}`;
        await bucket.put(backupKey, bytes, {
          httpMetadata: { contentType: file.type },
          customMetadata: { user, original_name: file.name, cloudinary_public_id: `${folder}/${publicId}`, uploaded_at: new Date(ctx.now).toISOString() },
        });
      }
      const [apiKey, secret] = readSecrets(ctx.env, [options.api_key, options.api_secret]);
      const params = { folder, public_id: publicId, timestamp: Math.floor(ctx.now / 1000) };
      const form = new FormData();
      form.set('file', new Blob([bytes], { type: file.type }), file.name);
      for (const [k, v] of Object.entries(params)) form.set(k, String(v));
      form.set('api_key', apiKey!);
      form.set('signature', await cloudinarySignature(params, secret!, algorithm));
      const res = await ctx.fetch(`${base}/v1_1/${options.cloud_name}/${resourceType}/upload`, { method: 'POST', body: form });
      if (!res.ok) {
        ctx.emit({ kind: 'runtime.error', where: `routes.${ctx.route}.cloudinary`, error: `cloudinary answered ${res.status}` });
        return errorResponse(502, { error: 'unavailable', message: 'the upload service refused the file', reason: `cloudinary_${res.status}` });
      }
      const uploaded = (await res.json()) as { public_id: string; secure_url: string; bytes: number; format?: string };
      return Response.json({ public_id: uploaded.public_id, url: uploaded.secure_url, bytes: uploaded.bytes, ...(backupKey ? { backup_key: backupKey } : {}) }, { status: 201 });
    };
  },
};
