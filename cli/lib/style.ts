/** Terminal colour for CLI output: only when the stream is a TTY, never with NO_COLOR (Node's `styleText` checks both). */
import { styleText } from 'node:util';

type Format = Parameters<typeof styleText>[0];

/**
 * `text` in `format` when `stream` shows colour, else unchanged.
 * @example console.error(`${paint('red', 'error', process.stderr)}: ...`)
 */
export function paint(format: Format, text: string, stream: NodeJS.WritableStream = process.stdout): string {
  return styleText(format, text, { stream });
}
