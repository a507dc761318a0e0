import { v2 as cloudinary } from 'cloudinary';
import { describe, expect, it } from 'vitest';

/** The SDK's signer takes the algorithm as a third argument; its type declaration omits it. */
const sdkSign = cloudinary.utils.api_sign_request as unknown as (params: object, secret: string, algorithm: string) => string;
import { cloudinarySignature } from '../../adapters/endpoints/cloudinary-upload.ts';

describe('Cloudinary upload signature', () => {
  it("matches Cloudinary's documented example (SHA-1)", async () => {
    // From Cloudinary's "Generating authentication signatures" documentation.
    const params = { eager: 'w_400,h_300,c_pad|w_260,h_200,c_crop', public_id: 'sample_image', timestamp: 1315060510 };
    expect(await cloudinarySignature(params, 'abcd', 'sha1')).toBe('bfd09f95f331f558cbd1320e67aa8d488770583e');
    expect(sdkSign(params, 'abcd', 'sha1')).toBe('bfd09f95f331f558cbd1320e67aa8d488770583e');
  });

  it("agrees with Cloudinary's SDK for SHA-256, arrays, empty values and an & inside a value", async () => {
    const params = { folder: 'uploads/user_1', public_id: 'a&b', timestamp: 1_750_000_000, tags: ['x', 'y'], context: '' };
    expect(await cloudinarySignature(params, 's3cret', 'sha256')).toBe(sdkSign(params, 's3cret', 'sha256'));
    expect(await cloudinarySignature(params, 's3cret', 'sha1')).toBe(sdkSign(params, 's3cret', 'sha1'));
  });
});
