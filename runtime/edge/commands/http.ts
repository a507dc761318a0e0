/**
 * `POST /v1/commands/<name>`: a command over HTTP. The caller authenticates with a service token (a secret the
 * command names) or a user's JWT from one of the manifest's auth providers, with the command's roles; the body is
 * the JSON input and the `Idempotency-Key` header is required.
 */
import type { Hono } from 'hono';
import { MissingSecretError, readSecrets } from '../../component/context.ts';
import { satisfies, type JwtVerify } from '../auth.ts';
import { secretsEqual, utf8Strict } from '../../lib/bytes.ts';
import type { RuntimeEnv } from '../../lib/envelope.ts';
import { errorResponse, httpError, readBody, waitUntilOf } from '../../lib/http.ts';
import { authenticate, bearer } from '../routes.ts';
import type { Emit } from '../../lib/telemetry.ts';
import type { CompiledCommand } from '../../manifest/commands/compile.ts';
import { IDEMPOTENCY_HEADER, runCommand, type CommandAnswer, type CommandDeps } from './run.ts';

export const COMMANDS_PATH = '/v1/commands';

const unauthorized = (message: string) =>
  httpError(401, { error: 'unauthorized', message }, { 'www-authenticate': 'Bearer realm="switchyard"' });

/**
 * Who is calling: a service token the command accepts (its secret's name), or a user whose token its provider
 * verifies (401), who holds its roles and claims (403), as `<provider>:<sub>`. A command whose secrets are all unset
 * and that has no provider answers 500.
 */
async function authorise(
  command: CompiledCommand,
  request: Request,
  env: RuntimeEnv,
  verifiers: ReadonlyMap<string, JwtVerify>,
  emit: Emit,
): Promise<string> {
  const token = bearer(request);
  const where = `commands.${command.name}`;
  if (!token) {
    emit({ kind: 'auth.rejected', where, reason: 'missing_token' });
    throw unauthorized('send Authorization: Bearer <service token or user token>');
  }
  let configured = false;
  for (const name of command.auth.serviceTokens) {
    let secret: string;
    try {
      [secret] = readSecrets(env, name) as [string];
    } catch (error) {
      if (error instanceof MissingSecretError) {
        emit({ kind: 'secret.missing', integration: where, variable: name });
        continue;
      }
      throw error;
    }
    configured = true;
    if (await secretsEqual(token, secret)) return name;
  }
  const verify = command.auth.provider ? verifiers.get(command.auth.provider) : undefined;
  if (!verify) {
    if (!configured)
      throw httpError(500, {
        error: 'misconfigured',
        message: `command ${command.name} is not configured on this server`,
      });
    emit({ kind: 'auth.rejected', where, reason: 'unknown_token' });
    throw unauthorized('the token is not a service token of this command');
  }
  const user = await authenticate(verify, token, env, emit, where);
  if (!satisfies(user, command.auth.require, env)) {
    emit({ kind: 'auth.rejected', where, reason: 'requirement_not_met' });
    throw httpError(403, { error: 'forbidden', message: `this user may not call ${command.name}` });
  }
  return `${user.provider}:${user.sub}`;
}

/** The answer as a response: JSON, with its headers (Idempotent-Replayed, Retry-After). */
export function answerResponse(answer: CommandAnswer): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...answer.headers },
  });
}

/** Registers the commands endpoint on the app. */
export function registerCommands(
  app: Hono<{ Bindings: RuntimeEnv }>,
  deps: CommandDeps & { verifiers: ReadonlyMap<string, JwtVerify> },
): void {
  const { compiled, emit } = deps;
  app.all(`${COMMANDS_PATH}/:name`, async (c) => {
    const name = c.req.param('name');
    const command = compiled.commands.get(name);
    if (!command) throw httpError(404, { error: 'not_found', message: `no command ${name}` });
    if (c.req.method !== 'POST')
      throw httpError(405, { error: 'method_not_allowed', message: 'use POST' }, { allow: 'POST' });
    const caller = await authorise(command, c.req.raw, c.env, deps.verifiers, emit);
    const body = await readBody(c.req.raw, command.maxBody);
    if (!body) throw httpError(413, { error: 'payload_too_large', message: `body exceeds ${command.maxBody} bytes` });
    let input: unknown;
    try {
      input = JSON.parse(utf8Strict.decode(body));
    } catch {
      return errorResponse(400, {
        error: 'bad_request',
        message: 'the body must be the command input as JSON',
        reason: 'malformed_body',
      });
    }
    const waitUntil = waitUntilOf(c);
    return answerResponse(
      await runCommand(command, input, c.req.header(IDEMPOTENCY_HEADER), c.env, 'http', caller, {
        ...deps,
        ...(waitUntil ? { waitUntil } : {}),
      }),
    );
  });
}
