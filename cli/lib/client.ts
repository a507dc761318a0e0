/**
 * The typed client for an application (`switchyard types --client <file>`): an interface per command input, from its
 * JSON Schema (json-schema-to-typescript), and one method per command that works over a Service Binding
 * (`env.SWITCHYARD`) or over HTTP (fetch and a service token), with the same answers and errors either way.
 */
import { compile } from 'json-schema-to-typescript';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { EventStatus } from '../../runtime/store/status.ts';
import { typesInput } from './schema-to-types.ts';

const pascal = (name: string) => name.replace(/(^|[_-])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

/** What an accepted call's `status` can be, spelled from the store's vocabulary into the generated client. */
const ANSWER_STATUSES = [EventStatus.queued, EventStatus.applied, EventStatus.ignored, EventStatus.skipped]
  .map((s) => `'${s}'`)
  .join(' | ');

/** The runtime part of the client: the same for every manifest. */
const RUNTIME = `
/** What a call answered, the same over a Service Binding and HTTP. */
export interface CommandAnswer {
  status: number;
  body: Record<string, unknown>;
  replayed?: boolean;
}

/** What a Service Binding to switchyard's \`SwitchyardEntrypoint\` offers. */
export interface SwitchyardBinding {
  command(name: string, input: unknown, options?: { idempotencyKey?: string }): Promise<CommandAnswer>;
}

/** How to reach switchyard: a Service Binding, or its URL and a service token (HTTP). */
export type Transport = { binding: SwitchyardBinding } | { url: string; token: string; fetch?: typeof fetch };

export interface CallOptions {
  /** One key per operation (a UUID); the same key when you retry it. Required. */
  idempotencyKey: string;
}

/** A call switchyard accepted: queued (202), applied in the request, or a synchronous command's result. */
export interface Accepted<R = undefined> {
  id: string;
  status: ${ANSWER_STATUSES};
  result: R;
  /** This is the answer to an earlier call with the same key (nothing was done again). */
  replayed: boolean;
}

/** A call switchyard refused or could not complete: the HTTP status and switchyard's error body. */
export class CommandError extends Error {
  override name = 'CommandError';
  readonly status: number;
  readonly error: string;
  readonly reason: string | undefined;
  /** For a 422: where the input was refused, as JSON Pointers, and why. */
  readonly problems: { path: string; message: string }[];
  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.message === 'string' ? body.message : \`switchyard answered \${status}\`);
    this.status = status;
    this.error = typeof body.error === 'string' ? body.error : 'error';
    this.reason = typeof body.reason === 'string' ? body.reason : undefined;
    this.problems = Array.isArray(body.problems) ? (body.problems as { path: string; message: string }[]) : [];
  }
}

async function send(transport: Transport, name: string, input: unknown, options: CallOptions): Promise<CommandAnswer> {
  if ('binding' in transport) return transport.binding.command(name, input, { idempotencyKey: options.idempotencyKey });
  const res = await (transport.fetch ?? fetch)(\`\${transport.url.replace(/\\/+$/, '')}/v1/commands/\${name}\`, {
    method: 'POST',
    headers: { authorization: \`Bearer \${transport.token}\`, 'content-type': 'application/json', 'idempotency-key': options.idempotencyKey },
    body: JSON.stringify(input),
  });
  const body = (await res.json().catch(() => ({ error: 'bad_response', message: \`switchyard answered \${res.status} without JSON\` }))) as Record<string, unknown>;
  return { status: res.status, body, replayed: res.headers.get('idempotent-replayed') === 'true' };
}

async function call<R>(transport: Transport, name: string, input: unknown, options: CallOptions): Promise<Accepted<R>> {
  const answer = await send(transport, name, input, options);
  if (answer.status < 200 || answer.status > 299) throw new CommandError(answer.status, answer.body);
  const body = answer.body as { id: string; status: Accepted['status']; result?: R };
  return { id: body.id, status: body.status, result: body.result as R, replayed: answer.replayed === true };
}
`;

/**
 * The client module's text for a manifest's commands.
 * @example await clientModule(manifest, 'integrations.yaml')
 */
export async function clientModule(manifest: Manifest, source: string): Promise<string> {
  const commands = Object.entries(manifest.commands ?? {});
  const inputs: string[] = [];
  for (const [name, spec] of commands) {
    const type = `${pascal(name)}Input`;
    const schema = {
      ...structuredClone(spec.input),
      title: type,
      ...(spec.description ? { description: spec.description } : {}),
    };
    inputs.push(
      await compile(typesInput(schema), type, {
        bannerComment: '',
        additionalProperties: false,
        strictIndexSignatures: true,
        format: true,
        style: { singleQuote: true, printWidth: 120 },
      }),
    );
  }
  const resultType = (name: string) => {
    const { sync, count } = manifest.commands![name]!;
    if (count)
      return '{ allowed: boolean; used: number; max: number; remaining: number; period_end: string; warning?: string; reason?: string }';
    return sync
      ? `{ ${Object.keys(sync.result)
          .map((k) => `${JSON.stringify(k)}: unknown`)
          .join('; ')} }`
      : 'undefined';
  };
  const methods = commands.map(([name, spec]) => {
    const doc = spec.description ? `    /** ${spec.description.replace(/\*\//g, '* /')} */\n` : '';
    return `${doc}    ${name}: (input: ${pascal(name)}Input, options: CallOptions) => call<${resultType(name)}>(transport, ${JSON.stringify(name)}, input, options),`;
  });
  return [
    `/* Generated by \`switchyard types --client\` from ${source}. Do not edit: run \`npm run types\`. */`,
    '/* eslint-disable */',
    inputs.join('\n').trim(),
    RUNTIME.trim(),
    '',
    '/**',
    ' * The commands, typed: over a Service Binding (`{ binding: env.SWITCHYARD }`) or HTTP (`{ url, token }`).',
    ' * @example const switchyard = commands({ binding: env.SWITCHYARD });',
    ' * await switchyard.send_password_reset({ email, reset_url }, { idempotencyKey: crypto.randomUUID() });',
    ' */',
    'export function commands(transport: Transport) {',
    '  return {',
    ...methods,
    '  };',
    '}',
    '',
  ].join('\n');
}
