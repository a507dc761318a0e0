/**
 * What `switchyard dev` shows of wrangler's output. The Worker's own lines and wrangler's requests, warnings and
 * errors pass through; what would bury them is folded:
 * - each bindings table (one row per variable and secret, printed at every start and reload) becomes one line, and
 *   only when it changed;
 * - the "scheduled Workers are not triggered locally" notice is dropped: the dev loop fires the crons itself;
 * - wrangler's offline `Request.cf` warning and its stack, and workerd's DNS failures with their native stacks, become
 *   one line, once (the Worker's own log says which call failed and when it is retried).
 * `ready` is called with the URL when wrangler says the server is ready (at start and after each reload).
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every ANSI colour sequence
const ANSI = /\u001b\[[0-9;]*m/g;
export const plain = (line: string) => line.replace(ANSI, '');

export interface OutputEvents {
  print(line: string): void;
  ready?(url: string | undefined): void;
  /** Shared by the filters of one dev session (stdout and stderr, every restart): what was said once is not repeated. */
  said?: Set<string>;
}

type Mode = 'pass' | 'bindings' | 'scheduled' | 'stack' | 'native';

/** A line filter: feed it chunks as they arrive, `end()` when the stream closes. */
export function wranglerOutput(events: OutputEvents): { write(chunk: string | Buffer): void; end(): void } {
  let buffer = '';
  let mode: Mode = 'pass';
  let rows: string[] = [];
  const said = events.said ?? new Set<string>();
  const once = (line: string) => {
    if (!said.has(line)) events.print(line);
    said.add(line);
  };

  const bindingsLine = () => {
    const kinds = new Map<string, number>();
    let variables = 0;
    for (const row of rows) {
      const kind = /\s{2,}(\S.*?)\s{2,}\S+\s*$/.exec(row)?.[1] ?? /\s{2,}(\S.*?)\s*$/.exec(row)?.[1] ?? 'binding';
      if (kind === 'Environment Variable') variables++;
      else kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const parts = [...kinds].map(([kind, n]) => (n > 1 ? `${n} × ${kind}` : kind));
    return `[switchyard] bindings: ${parts.join(', ')}; ${variables} variables and secrets`;
  };

  const line = (raw: string) => {
    const text = plain(raw);
    if (mode === 'bindings') {
      if (text.trim() === '') {
        mode = 'pass';
        // Again only when it changed (a new secret after a restart).
        const summary = bindingsLine();
        if (!said.has(summary)) for (const s of [...said]) if (s.startsWith('[switchyard] bindings: ')) said.delete(s);
        once(summary);
        return;
      }
      if (!/^Binding\s/.test(text.trim())) rows.push(text);
      return;
    }
    if (mode === 'scheduled') {
      if (text.trim() === '' || /To manually trigger|^\s*curl |For more details/.test(text)) return;
      mode = 'pass';
    }
    if (mode === 'stack') {
      if (/^\s*(Error: |at |\S+Error: )/.test(text)) return;
      mode = 'pass';
    }
    if (mode === 'native') {
      if (text.trim() === '' || /^\s*stack: /.test(text)) return;
      mode = 'pass';
    }
    if (/has access to the following bindings:$/.test(text.trim())) {
      mode = 'bindings';
      rows = [];
      return;
    }
    if (/Scheduled Workers are not automatically triggered/.test(text)) {
      mode = 'scheduled';
      return;
    }
    if (/Unable to fetch the `Request\.cf` object/.test(text)) {
      mode = 'stack';
      once('[switchyard] workers.cloudflare.com did not answer: request.cf holds placeholder values');
      return;
    }
    if (/failed to lookup address information|getaddrinfo ENOTFOUND/.test(text)) {
      mode = /getaddrinfo/.test(text) ? 'stack' : 'native';
      once(
        '[switchyard] no DNS here (offline?): outbound calls fail, and each is retried by its policy (see effect.retry lines)',
      );
      return;
    }
    // "Logs were written to ~/.config/.wrangler/logs/…": wrangler's own debug log, named as it exits (a restart).
    if (
      /^⎔ Connection status updated/.test(text.trim()) ||
      /Logs were written to /.test(text) ||
      /^─+$/.test(text.trim()) ||
      /\/cdn-cgi\/local\/scheduled /.test(text)
    )
      return;
    const ready = /Ready on (\S+)/.exec(text) ?? /Local server updated and ready/.exec(text);
    events.print(raw);
    if (ready) events.ready?.(ready[1]);
  };

  return {
    write(chunk) {
      buffer += chunk.toString();
      let at: number;
      while ((at = buffer.indexOf('\n')) !== -1) {
        line(buffer.slice(0, at).replace(/\r$/, ''));
        buffer = buffer.slice(at + 1);
      }
    },
    end() {
      if (buffer) line(buffer);
      buffer = '';
      if (mode === 'bindings') line('');
    },
  };
}
