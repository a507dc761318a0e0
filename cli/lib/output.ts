/**
 * Where a command writes: the process's stdout and stderr for the CLI, or two in-memory streams for a test that runs
 * the command in-process (no spawned Node). A command takes an `Output` and returns its exit code; it never touches
 * `process.stdout` or `process.exit` itself.
 */
import { Writable } from 'node:stream';

export interface Output {
  /** Colour is decided per stream (see `paint`): a captured stream is not a TTY, so it gets none. */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** The CLI's own output. */
export const processOutput: Output = { stdout: process.stdout, stderr: process.stderr };

/** Writes one line to stdout, as `console.log(text)` does (the same bytes: the text and a newline). */
export const log = (output: Output, text: string): void => void output.stdout.write(`${text}\n`);

/** Writes one line to stderr, as `console.error(text)` does. */
export const logError = (output: Output, text: string): void => void output.stderr.write(`${text}\n`);

/**
 * An `Output` that keeps what was written, for running a command in-process.
 * @example const { output, text } = capture(); const code = await validateCommand([], output); text().stderr
 */
export function capture(): { output: Output; text: () => { stdout: string; stderr: string } } {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      decodeStrings: false,
      write(chunk: string | Uint8Array, _encoding, done) {
        chunks.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
        done();
      },
    });
    return { stream, read: () => chunks.join('') };
  };
  const out = sink();
  const err = sink();
  return {
    output: { stdout: out.stream, stderr: err.stream },
    text: () => ({ stdout: out.read(), stderr: err.read() }),
  };
}
