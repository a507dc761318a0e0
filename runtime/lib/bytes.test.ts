/** Byte helpers verifiers rely on: strict decoders (a lenient one would accept signatures the provider refuses). */
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  fromBase64,
  fromBase64Url,
  fromHex,
  secretsEqual,
  sha256,
  timingSafeEqual,
  toBase64,
  toBase64Url,
  toHex,
} from './bytes.ts';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('hex', () => {
  it('round-trips, upper or lower case in', () => {
    expect(toHex(bytes(0, 15, 16, 255))).toBe('000f10ff');
    expect(fromHex('000F10ff')).toEqual(bytes(0, 15, 16, 255));
  });

  it('refuses odd lengths and non-hex characters', () => {
    expect(fromHex('abc')).toBeUndefined();
    expect(fromHex('zz')).toBeUndefined();
    expect(fromHex('0x00')).toBeUndefined();
  });

  it('refuses the characters either side of each hex range, in either place of a byte', () => {
    for (const c of ['/', ':', '@', 'G', '`', 'g', ' ', '\u0130']) {
      expect(fromHex(`a${c}`)).toBeUndefined();
      expect(fromHex(`${c}a`)).toBeUndefined();
    }
    expect(fromHex('')).toEqual(bytes());
    expect(fromHex('09afAF')).toEqual(bytes(0x09, 0xaf, 0xaf));
  });
});

describe('base64', () => {
  it('round-trips standard base64 as Node encodes it', () => {
    const data = bytes(251, 255, 191, 0, 1);
    expect(toBase64(data)).toBe(Buffer.from(data).toString('base64'));
    expect(fromBase64(toBase64(data))).toEqual(data);
  });

  it('refuses unpadded, truncated and url-alphabet text', () => {
    expect(fromBase64('+/+/AAE=')).toEqual(bytes(251, 255, 191, 0, 1));
    expect(fromBase64('+/+/AAE')).toBeUndefined();
    expect(fromBase64('-_-_AAE=')).toBeUndefined();
    expect(fromBase64('a===')).toBeUndefined();
  });

  it('base64url: unpadded out; padding optional in; the standard alphabet refused', () => {
    const data = bytes(251, 255, 191, 0, 1);
    expect(toBase64Url(data)).toBe(Buffer.from(data).toString('base64url'));
    expect(fromBase64Url('-_-_AAE')).toEqual(data);
    expect(fromBase64Url('-_-_AAE=')).toEqual(data);
    expect(fromBase64Url('+/+/AAE')).toBeUndefined();
    expect(fromBase64Url('abcde')).toBeUndefined();
  });
});

describe('comparing', () => {
  it('timingSafeEqual: equal contents only, unequal lengths false', () => {
    expect(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 3))).toBe(true);
    expect(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 4))).toBe(false);
    expect(timingSafeEqual(bytes(1, 2), bytes(1, 2, 3))).toBe(false);
  });

  it('secretsEqual compares strings of any length', async () => {
    expect(await secretsEqual('s3cret', 's3cret')).toBe(true);
    expect(await secretsEqual('s3cret', 's3cret ')).toBe(false);
  });
});

describe('concatBytes and sha256', () => {
  it('joins bytes and UTF-8 text in order', () => {
    expect(concatBytes('a', bytes(0), 'é')).toEqual(bytes(97, 0, 0xc3, 0xa9));
  });

  it('hashes text as its UTF-8 bytes (the known answer for "abc")', async () => {
    expect(toHex(await sha256('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256(concatBytes('a', 'bc'))).toEqual(await sha256('abc'));
    expect(concatBytes()).toEqual(bytes());
  });
});
