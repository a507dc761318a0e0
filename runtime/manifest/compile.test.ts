/** `on:` patterns in handlers: `*` matches any run of characters, everything else is literal. */
import { describe, expect, it } from 'vitest';
import { compilePattern } from './compile.ts';

const matches = (pattern: string, types: string[]) => types.filter((t) => compilePattern(pattern).test(t));

describe('compilePattern', () => {
  it('matches a prefix, a suffix or a middle with *', () => {
    const types = [
      'invoice.paid',
      'invoice.payment_failed',
      'customer.subscription.created',
      'invoice',
      'user.created',
    ];
    expect(matches('invoice.*', types)).toEqual(['invoice.paid', 'invoice.payment_failed']);
    expect(matches('*.created', types)).toEqual(['customer.subscription.created', 'user.created']);
    expect(matches('customer.*.created', types)).toEqual(['customer.subscription.created']);
    expect(matches('*', types)).toEqual(types);
  });

  it('lets * cross dots and match nothing', () => {
    expect(matches('invoice*', ['invoice', 'invoice.paid', 'invoices.x'])).toEqual([
      'invoice',
      'invoice.paid',
      'invoices.x',
    ]);
  });

  it('reads the rest literally: a dot is a dot, and regex characters match only themselves', () => {
    expect(matches('invoice.paid', ['invoice.paid', 'invoiceXpaid', 'invoice.paid.late'])).toEqual(['invoice.paid']);
    expect(matches('a+b(c)?[d]$', ['a+b(c)?[d]$', 'aab(c)[d]', 'ab'])).toEqual(['a+b(c)?[d]$']);
  });

  it('is anchored at both ends', () => {
    expect(matches('paid', ['invoice.paid', 'paid', 'paid.late'])).toEqual(['paid']);
  });
});
