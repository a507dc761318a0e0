import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { toHex } from '../../runtime/lib/bytes.ts';
import { errorResponse, readBody } from '../../runtime/lib/http.ts';
import { baseUrl, trimSlash } from '../actions/message.ts';

/** Room for the multipart boundaries and part headers around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** Where Cloudinary serves assets from. */
export const CLOUDINARY_DELIVERY = 'https://res.cloudinary.com';
/** A transformation as Cloudinary writes it in a URL: `c_limit,w_2000`, chained with `/`. */
const TRANSFORMATION_PATTERN = '^[A-Za-z0-9_,.:!$-]+(/[A-Za-z0-9_,.:!$-]+)*$';
/** What a request sends to ask for an R2 backup of its file, where the route allows one (`backup: on_request`). */
const BACKUP_FIELD = 'backup';

/**
 * Cloudinary's signature: the parameters (empty ones left out, arrays joined with commas) sorted by name, written
 * `name=value` and joined with `&` (an `&` inside a value escaped as %26, as the SDK's signature version 2 does),
 * the API secret appended, hashed with SHA-1 or SHA-256, hex.
 */
export async function cloudinarySignature(
  params: Record<string, string | number | string[] | undefined>,
  secret: string,
  algorithm: 'sha1' | 'sha256',
): Promise<string> {
  const toSign = Object.entries(params)
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v] as const)
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26'))
    .join('&');
  const digest = await crypto.subtle.digest(
    algorithm === 'sha1' ? 'SHA-1' : 'SHA-256',
    new TextEncoder().encode(toSign + secret),
  );
  return toHex(new Uint8Array(digest));
}

/**
 * The upload's parameters, all of which are signed (Cloudinary signs every parameter but file, api_key,
 * resource_type and cloud_name): the folder, the public id, the time, and the incoming `transformation` and target
 * `format` when the route declares them.
 */
export function cloudinaryUploadParams(p: {
  folder: string;
  publicId: string;
  timestamp: number;
  transformation?: string | undefined;
  format?: string | undefined;
}): Record<string, string | number> {
  return {
    folder: p.folder,
    public_id: p.publicId,
    timestamp: p.timestamp,
    ...(p.transformation ? { transformation: p.transformation } : {}),
    ...(p.format ? { format: p.format } : {}),
  };
}

/** What Cloudinary's upload answer says about the stored asset. */
export interface UploadedAsset {
  public_id: string;
  secure_url: string;
  bytes: number;
  format?: string;
  resource_type?: string;
  type?: string;
  version?: number;
  width?: number;
  height?: number;
}

/**
 * The delivery URL of an uploaded asset with a transformation, as Cloudinary's SDK builds it:
 * `https://res.cloudinary.com/<cloud>/<resource_type>/<type>/<transformation>/v<version>/<public_id>.<format>`.
 * @example cloudinaryUrl('demo', asset, 'c_fill,w_200,h_200')
 */
export function cloudinaryUrl(cloud: string, asset: UploadedAsset, transformation?: string): string {
  const parts = [
    CLOUDINARY_DELIVERY,
    cloud,
    asset.resource_type ?? 'image',
    asset.type ?? 'upload',
    ...(transformation ? [transformation] : []),
    ...(asset.version ? [`v${asset.version}`] : []),
  ];
  return `${parts.join('/')}/${asset.public_id}${asset.format ? `.${asset.format}` : ''}`;
}

/**
 * `POST /v1/uploads` (multipart, field `file`): an authenticated upload, checked for size and type, uploaded to
 * Cloudinary with a signed request (with the route's `transformation` and `format`), then, when the route keeps
 * originals (`backup: always`, or `on_request` and the request sends `backup=true`), written whole into R2 with
 * the Cloudinary URL in its metadata. The answer carries the asset's URL, its `format`, a `url_template` to put
 * any transformation in, and the route's named `urls`. The browser never sees the API secret.
 */
export const cloudinaryUploadEndpoint = defineComponent({
  kind: 'endpoint',
  name: 'cloudinary-upload',
  title: 'CloudinaryUploadEndpoint',
  description:
    'Signed uploads to Cloudinary, with size and type limits, transformations and an optional R2 backup of the original.',
  auth: 'required',
  spec: {
    cloud_name: field.string({ pattern: '^[a-z0-9_-]+$' }),
    api_key: field.secret().describe('Env var with the Cloudinary API key.'),
    api_secret: field.secret().describe('Env var with the Cloudinary API secret.'),
    algorithm: field
      .enum(['sha1', 'sha256'])
      .default('sha256')
      .describe("Signature hash; must match the account's setting."),
    folder: field.string().optional().describe("Cloudinary folder; each user's uploads go under <folder>/<user id>."),
    resource_type: field.enum(['image', 'video', 'raw', 'auto']).default('auto'),
    transformation: field
      .string({ pattern: TRANSFORMATION_PATTERN })
      .optional()
      .describe('An incoming transformation applied before Cloudinary stores the file, e.g. c_limit,w_2000 (signed).'),
    format: field
      .string({ pattern: '^[a-z0-9]{2,5}$' })
      .optional()
      .describe('Convert uploads to this format, e.g. webp (signed).'),
    urls: field
      .record(field.string({ pattern: TRANSFORMATION_PATTERN }), { propertyNames: { pattern: '^[a-z][a-z0-9_]*$' } })
      .optional()
      .describe(
        "Named delivery transformations: the answer carries each one's URL, e.g. { thumb: c_fill,w_200,h_200 }.",
      ),
    max_size: field.size().default('10MiB').describe('Largest file accepted.'),
    types: field
      .list(field.string({ pattern: '^[a-z]+/[a-z0-9.+-]+$' }))
      .optional()
      .describe('Accepted MIME types (default any image).'),
    backup_binding: field
      .string({ pattern: '^[A-Z][A-Z0-9_]*$' })
      .optional()
      .describe('R2 binding to keep the original in, with the Cloudinary URL in its metadata.'),
    // No schema default: it applies only with backup_binding (without one nothing is kept), and alone it is a mistake.
    backup: field
      .enum(['always', 'on_request'])
      .optional()
      .describe(
        `With backup_binding: keep every original (always, the default), or only when the request sends ${BACKUP_FIELD}=true (on_request).`,
      ),
    base_url: baseUrl('https://api.cloudinary.com'),
  },
  example: {
    type: 'cloudinary-upload',
    cloud_name: 'demo',
    api_key: 'CLOUDINARY_API_KEY',
    api_secret: 'CLOUDINARY_API_SECRET',
    folder: 'uploads',
    backup_binding: 'UPLOADS',
  },
  create(options) {
    const base = trimSlash(options.base_url);
    const { algorithm, max_size: maxSize, types, resource_type: resourceType } = options;
    if (options.backup && !options.backup_binding) throw new Error('backup needs backup_binding');
    const transformation = new RegExp(TRANSFORMATION_PATTERN);
    for (const [name, t] of [
      ['transformation', options.transformation],
      ...Object.entries(options.urls ?? {}).map(([n, v]) => [`urls.${n}`, v]),
    ] as [string, string | undefined][]) {
      if (t !== undefined && (!transformation.test(t) || t.split('/').some((segment) => /^\.+$/.test(segment))))
        throw new Error(
          `${name}: ${JSON.stringify(t)} is not a Cloudinary transformation (e.g. c_fill,w_200,h_200, chained with /)`,
        );
    }
    const backupMode = options.backup_binding ? (options.backup ?? 'always') : 'never';
    return async (ctx) => {
      // Bounded: the multipart envelope may add up to 64 KiB around the file; nothing more is ever buffered.
      const raw = await readBody(ctx.request, maxSize + MULTIPART_OVERHEAD);
      if (!raw) return errorResponse(413, { error: 'payload_too_large', message: `files up to ${maxSize} bytes` });
      let form: FormData;
      try {
        form = await new Response(raw, {
          headers: { 'content-type': ctx.request.headers.get('content-type') ?? '' },
        }).formData();
      } catch {
        return errorResponse(400, { error: 'bad_request', message: 'send multipart/form-data with a "file" field' });
      }
      const file = form.get('file') as File | null;
      if (!file || typeof file === 'string')
        return errorResponse(400, { error: 'bad_request', message: 'send multipart/form-data with a "file" field' });
      if (file.size > maxSize)
        return errorResponse(413, { error: 'payload_too_large', message: `files up to ${maxSize} bytes` });
      const accepted = types ? types.includes(file.type) : file.type.startsWith('image/');
      if (!accepted)
        return errorResponse(415, {
          error: 'bad_request',
          message: `type ${file.type || 'unknown'} is not accepted`,
          reason: 'unsupported_type',
        });
      const asked = /^(true|1|yes)$/i.test(String(form.get(BACKUP_FIELD) ?? ''));
      if (asked && backupMode === 'never')
        return errorResponse(400, {
          error: 'bad_request',
          message: 'this route keeps no backups',
          reason: 'backup_not_allowed',
        });
      const backup = backupMode === 'always' || (backupMode === 'on_request' && asked);
      const bucket = backup ? (ctx.env[options.backup_binding!] as R2Bucket | undefined) : undefined;
      if (backup && !bucket)
        return errorResponse(500, { error: 'misconfigured', message: 'the upload backup bucket is not bound' });

      const user = ctx.user!.sub;
      const publicId = crypto.randomUUID();
      const folder = [options.folder, user.replace(/[^A-Za-z0-9_-]/g, '_')].filter(Boolean).join('/');
      const bytes = new Uint8Array(await file.arrayBuffer());
      const [apiKey, secret] = readSecrets(ctx.env, [options.api_key, options.api_secret]);
      const params = cloudinaryUploadParams({
        folder,
        publicId,
        timestamp: Math.floor(ctx.now / 1000),
        transformation: options.transformation,
        format: options.format,
      });
      const upload = new FormData();
      upload.set('file', new Blob([bytes], { type: file.type }), file.name);
      for (const [k, v] of Object.entries(params)) upload.set(k, String(v));
      upload.set('api_key', apiKey!);
      upload.set('signature', await cloudinarySignature(params, secret!, algorithm));
      const res = await ctx.fetch(`${base}/v1_1/${options.cloud_name}/${resourceType}/upload`, {
        method: 'POST',
        body: upload,
      });
      if (!res.ok) {
        ctx.emit({
          kind: 'runtime.error',
          where: `routes.${ctx.route}.cloudinary`,
          error: `cloudinary answered ${res.status}`,
        });
        return errorResponse(502, {
          error: 'unavailable',
          message: 'the upload service refused the file',
          reason: `cloudinary_${res.status}`,
        });
      }
      const asset = (await res.json()) as UploadedAsset;
      // After the upload, so the object names where the file went; a failed backup does not undo a stored upload.
      let backupResult: { backup_key: string } | { backup: 'failed' } | undefined;
      if (bucket) {
        const key = `${folder}/${publicId}`;
        try {
          await bucket.put(key, bytes, {
            httpMetadata: { contentType: file.type },
            customMetadata: {
              user,
              original_name: file.name,
              cloudinary_public_id: asset.public_id,
              cloudinary_url: asset.secure_url,
              uploaded_at: new Date(ctx.now).toISOString(),
            },
          });
          backupResult = { backup_key: key };
        } catch (error) {
          ctx.emit({
            kind: 'runtime.error',
            where: `routes.${ctx.route}.backup`,
            error: error instanceof Error ? error.message : String(error),
          });
          backupResult = { backup: 'failed' };
        }
      }
      const urls = Object.fromEntries(
        Object.entries(options.urls ?? {}).map(([name, t]) => [name, cloudinaryUrl(options.cloud_name, asset, t)]),
      );
      return Response.json(
        {
          public_id: asset.public_id,
          url: asset.secure_url,
          bytes: asset.bytes,
          ...(asset.format ? { format: asset.format } : {}),
          ...(asset.width !== undefined && asset.height !== undefined
            ? { width: asset.width, height: asset.height }
            : {}),
          url_template: cloudinaryUrl(options.cloud_name, asset, '{transformation}'),
          ...(Object.keys(urls).length ? { urls } : {}),
          ...backupResult,
        },
        { status: 201 },
      );
    };
  },
});
