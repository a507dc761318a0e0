/** The fake provider APIs live in cli/lib so `switchyard test` records effects with the same fake the tests use. */
export * from '../../cli/lib/fake-providers.ts';

/**
 * A network that loses the next `net.lose` answers after the provider has acted: the request is performed, then the
 * connection drops before its answer arrives (the case "sent once" must hold in).
 */
export function losingAnswers(fetcher: typeof fetch): { net: { lose: number }; fetch: typeof fetch } {
  const net = { lose: 0 };
  const lossy: typeof fetch = async (input, init) => {
    const res = await fetcher(input, init);
    if (net.lose > 0) {
      net.lose--;
      throw new Error('Network connection lost.');
    }
    return res;
  };
  return { net, fetch: lossy };
}
