/**
 * Personal data out of captured events, before they become fixtures in a repository. By default every e-mail
 * address, phone number and the value of every name-like key (`name`, `first_name`, `last_name`, `full_name`,
 * `display_name`, `username`) is replaced; declared rules (tests/capture.yaml) add key names and exact paths.
 * Replacements are deterministic (the first address seen becomes person1@example.com, and the same address is
 * the same replacement everywhere in one capture), so a fixture's expectations stay stable and relations between
 * events (the same customer in two events) survive.
 */

export interface ScrubRules {
  /** Keys whose values are replaced wherever they occur. */
  keys?: string[];
  /** Exact paths (`data.object.metadata.note`, `record.phone`) whose values are replaced. */
  paths?: string[];
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = /^\+?[0-9][0-9 ().-]{6,18}[0-9]$/;
const NAME_KEY =
  /^(name|first_?name|last_?name|full_?name|given_?name|family_?name|display_?name|user_?name|username|nickname)$/i;
const SAFE_DOMAINS = /@(example\.(com|org|net)|[a-z0-9-]+\.example)$/i;

export class Scrubber {
  private readonly rules: ScrubRules;
  private readonly seen = new Map<string, string>();
  private counts = { email: 0, phone: 0, name: 0, value: 0 };
  constructor(rules: ScrubRules = {}) {
    this.rules = rules;
  }

  private replace(kind: keyof Scrubber['counts'], value: string): string {
    const key = `${kind}\u0000${value}`;
    let out = this.seen.get(key);
    if (!out) {
      const n = ++this.counts[kind];
      out =
        kind === 'email'
          ? `person${n}@example.com`
          : kind === 'phone'
            ? `+1555000${String(n).padStart(4, '0')}`
            : kind === 'name'
              ? `Person${n}`
              : `scrubbed-${n}`;
      this.seen.set(key, out);
    }
    return out;
  }

  /** A scrubbed copy of `value` (a parsed payload). */
  scrub(value: unknown, path: string[] = []): unknown {
    const here = path.join('.');
    const key = path[path.length - 1] ?? '';
    const declared = (this.rules.paths ?? []).includes(here) || (this.rules.keys ?? []).includes(key);
    if (Array.isArray(value)) return value.map((v, i) => this.scrub(v, [...path.slice(0, -1), `${key}[${i}]`]));
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, declared ? this.scrubLeaf(v) : this.scrub(v, [...path, k])]),
      );
    if (declared) return this.scrubLeaf(value);
    if (typeof value !== 'string') return value;
    if (NAME_KEY.test(key.replace(/\[\d+\]$/, '')) && value.trim()) return this.replace('name', value);
    if (PHONE.test(value) && /[+ ().-]/.test(value)) return this.replace('phone', value);
    return value.replace(EMAIL, (email) =>
      SAFE_DOMAINS.test(email) && /^person\d+@/.test(email) ? email : this.replace('email', email.toLowerCase()),
    );
  }

  private scrubLeaf(value: unknown): unknown {
    if (value === null || value === undefined) return value;
    if (typeof value === 'object')
      return Array.isArray(value)
        ? value.map((v) => this.scrubLeaf(v))
        : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.scrubLeaf(v)]));
    return typeof value === 'number' ? 0 : this.replace('value', String(value));
  }
}
