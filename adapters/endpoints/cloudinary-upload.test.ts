import { v2 as cloudinary } from 'cloudinary';
import { describe, expect, it } from 'vitest';

/** The SDK's signer takes the algorithm as a third argument; its type declaration omits it. */
const sdkSign = cloudinary.utils.api_sign_request as unknown as (
  params: object,
  secret: string,
  algorithm: string,
) => string;
import { cloudinarySignature } from './cloudinary-upload.ts';

describe('Cloudinary upload signature', () => {
  it("matches Cloudinary's documented example (SHA-1)", async () => {
    // From Cloudinary's "Generating authentication signatures" documentation.
    const params = { eager: 'w_400,h_300,c_pad|w_260,h_200,c_crop', public_id: 'sample_image', timestamp: 1315060510 };
    expect(await cloudinarySignature(params, 'abcd', 'sha1')).toBe('bfd09f95f331f558cbd1320e67aa8d488770583e');
    expect(sdkSign(params, 'abcd', 'sha1')).toBe('bfd09f95f331f558cbd1320e67aa8d488770583e');
  });

  it("agrees with Cloudinary's SDK for SHA-256, arrays, empty values and an & inside a value", async () => {
    const params = {
      folder: 'uploads/user_1',
      public_id: 'a&b',
      timestamp: 1_750_000_000,
      tags: ['x', 'y'],
      context: '',
    };
    expect(await cloudinarySignature(params, 's3cret', 'sha256')).toBe(sdkSign(params, 's3cret', 'sha256'));
    expect(await cloudinarySignature(params, 's3cret', 'sha1')).toBe(sdkSign(params, 's3cret', 'sha1'));
  });
});

describe('Cloudinary transformations', () => {
  it("signs an upload with transformation and format as Cloudinary's SDK does", async () => {
    const { cloudinaryUploadParams } = await import('./cloudinary-upload.ts');
    const params = cloudinaryUploadParams({
      folder: 'uploads/user_1',
      publicId: 'p1',
      timestamp: 1_750_000_000,
      transformation: 'c_limit,w_2000/e_sharpen',
      format: 'webp',
    });
    expect(params).toEqual({
      folder: 'uploads/user_1',
      public_id: 'p1',
      timestamp: 1_750_000_000,
      transformation: 'c_limit,w_2000/e_sharpen',
      format: 'webp',
    });
    expect(await cloudinarySignature(params, 's3cret', 'sha256')).toBe(sdkSign(params, 's3cret', 'sha256'));
    // The SDK's request signer signs the same parameters, then adds api_key (which, like file, resource_type and
    // cloud_name, is never signed).
    const signed = cloudinary.utils.sign_request(
      { ...params },
      { api_key: 'k', api_secret: 's3cret', signature_algorithm: 'sha1' },
    ) as Record<string, unknown>;
    expect(signed.signature).toBe(await cloudinarySignature(params, 's3cret', 'sha1'));
    expect(signed.api_key).toBe('k');
  });

  it("builds delivery URLs as the SDK's cloudinary.url does", async () => {
    const { cloudinaryUrl } = await import('./cloudinary-upload.ts');
    const asset = {
      public_id: 'uploads/user_1/p1',
      secure_url: '',
      bytes: 4,
      format: 'webp',
      resource_type: 'image',
      type: 'upload',
      version: 1750000001,
    };
    for (const transformation of ['c_fill,w_200,h_200', 'c_crop,g_face/r_max', undefined]) {
      const sdk = cloudinary.url(asset.public_id, {
        cloud_name: 'demo',
        secure: true,
        version: asset.version,
        format: 'webp',
        resource_type: 'image',
        type: 'upload',
        urlAnalytics: false,
        ...(transformation ? { raw_transformation: transformation } : {}),
      });
      expect(cloudinaryUrl('demo', asset, transformation)).toBe(sdk);
    }
  });
});
