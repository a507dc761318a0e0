/** KV refuses an expiration shorter than a minute. */
export const KV_MIN_TTL_SECONDS = 60;

/** An `expirationTtl` for KV: at least its minimum, whole seconds. */
export const kvExpirationTtl = (seconds: number) => Math.max(KV_MIN_TTL_SECONDS, Math.ceil(seconds));
