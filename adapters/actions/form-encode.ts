/**
 * `application/x-www-form-urlencoded` with nested bracket keys, as Stripe's API reads it (and its SDK writes it:
 * stripe-node's `stringifyRequestData`): `metadata[order_id]=1`, arrays indexed `items[0][price]=p_1`, null as an
 * empty value, undefined left out. Brackets stay unencoded, like the SDK's output (the API accepts both).
 */

const encodePart = (value: string) =>
  encodeURIComponent(value)
    .replace(/!/g, '%21')
    .replace(/\*/g, '%2A')
    .replace(/\(/g, '%28')
    .replace(/\)/g, '%29')
    .replace(/'/g, '%27')
    .replace(/%5B/g, '[')
    .replace(/%5D/g, ']');

/**
 * Encodes a map of fields. A field whose value is an object or an array is spread over bracketed keys.
 * @example formEncode({ amount: 2000, metadata: { order_id: 'o_1' } }) === 'amount=2000&metadata[order_id]=o_1'
 */
export function formEncode(fields: Record<string, unknown>): string {
  const pairs: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === undefined) return;
    if (value === null || typeof value !== 'object') {
      pairs.push(`${encodePart(key)}=${encodePart(value === null ? '' : String(value))}`);
      return;
    }
    if (Array.isArray(value)) value.forEach((item, i) => add(`${key}[${i}]`, item));
    else for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
  };
  for (const [key, value] of Object.entries(fields)) add(key, value);
  return pairs.join('&');
}
