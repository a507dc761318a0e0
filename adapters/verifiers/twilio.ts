import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import { sha256 } from '../../runtime/lib/bytes.ts';
import { anyMatch, encoder, fromBase64, fromHex, HmacSigner, timingSafeEqual, toBase64, toHex } from './crypto.ts';
import { byCodeUnit, groupPairs, parseFormPairs } from './form.ts';

/** The URL without its port, and with the scheme's default port: Twilio may have signed either. */
function urlVariants(url: URL): string[] {
  const base = `${url.protocol}//${url.hostname}`;
  const rest = `${url.pathname}${url.search}`;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return [base + rest, `${base}:${port}${rest}`];
}

/**
 * Twilio: `X-Twilio-Signature` is base64 HMAC-SHA1 keyed with the auth token over the full public URL followed
 * by each POST parameter's name and value, sorted by name (a repeated field's values sorted), as twilio-node's
 * `validateRequest` computes it. twilio-node also de-duplicates repeated values, so a field repeating a value is
 * refused: its signature would not cover the repeat. JSON bodies carry `?bodySHA256=<hex>` in the URL and the body
 * hash is checked too.
 */
export const twilioVerifier = defineComponent({
  kind: 'verifier',
  name: 'twilio',
  title: 'TwilioVerifier',
  description: 'Twilio request signatures (X-Twilio-Signature, HMAC-SHA1 over URL and sorted params).',
  spec: {
    secret: field.secrets().describe('Env var(s) holding the Twilio auth token.'),
    public_url: field
      .string({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' })
      .optional()
      .describe(
        'The URL configured in Twilio, when the Worker sits behind a proxy or custom domain; the query string of the request is kept.',
      ),
  },
  // A form field repeating a value: Twilio signs a field's values as a set, so the repeat is not covered.
  reasons: ['repeated_field'],
  example: { type: 'twilio', secret: 'TWILIO_AUTH_TOKEN', public_url: 'https://api.example.com/webhooks/twilio' },
  async sign(options, { url, body, secrets, form }) {
    const target = new URL(url);
    if (options.public_url) {
      const pub = new URL(options.public_url);
      target.protocol = pub.protocol;
      target.host = pub.host;
      target.pathname = pub.pathname;
    }
    const params = form
      ? Object.keys(form)
          .sort(byCodeUnit)
          .map((k) => k + form[k])
          .join('')
      : '';
    if (!form) target.searchParams.set('bodySHA256', toHex(await sha256(body)));
    return {
      'x-twilio-signature': toBase64(
        await new HmacSigner('SHA-1').sign(secrets[0]!, encoder.encode(target.href + params)),
      ),
    };
  },
  create(options) {
    const publicUrl = options.public_url ? new URL(options.public_url) : undefined;
    const signer = new HmacSigner('SHA-1');
    return {
      async verify(request, env) {
        const tokens = readSecretList(env, options.secret).values;
        const header = request.headers.get('x-twilio-signature');
        if (!header) throw new VerificationError('missing_signature');
        const signature = fromBase64(header);
        if (signature?.length !== 20) throw new VerificationError('malformed_signature');
        const url = new URL(request.url);
        if (publicUrl) {
          url.protocol = publicUrl.protocol;
          url.host = publicUrl.host;
          url.pathname = publicUrl.pathname;
        }
        const bodyHash = url.searchParams.get('bodySHA256');
        let params = '';
        if (bodyHash === null) {
          const grouped = groupPairs(parseFormPairs(request.body));
          for (const key of [...grouped.keys()].sort(byCodeUnit)) {
            const values = grouped.get(key)!;
            // Twilio signs the set of a field's values: a value sent twice is signed as once, so a captured
            // callback could be stretched (`a=x&a=x`) under its signature. Twilio never repeats a value.
            if (new Set(values).size !== values.length)
              throw new VerificationError('repeated_field', `form field ${key} repeats a value`);
            for (const value of [...values].sort(byCodeUnit)) params += key + value;
          }
        }
        const expected = await Promise.all(
          urlVariants(url).flatMap((u) => tokens.map((t) => signer.sign(t, encoder.encode(u + params)))),
        );
        if (!anyMatch(expected, [signature])) throw new VerificationError('signature_mismatch');
        if (bodyHash !== null) {
          const actual = await sha256(request.body);
          const claimed = fromHex(bodyHash);
          if (!claimed || !timingSafeEqual(actual, claimed)) throw new VerificationError('body_hash_mismatch');
        }
      },
    };
  },
});
