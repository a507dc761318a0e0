/**
 * The application's side of a Service Binding, for tests: a second Worker in the same workerd that calls switchyard
 * through the generated typed client, over RPC (`{ binding }`) or over HTTP through the binding's fetch. vitest.config
 * bundles it with esbuild and binds it as CALLER; it binds switchyard's SwitchyardEntrypoint as SWITCHYARD.
 */
import { commands, CommandError, type SwitchyardBinding, type Transport } from '../../client/switchyard-client.gen.ts';

interface CallerEnv {
  SWITCHYARD: SwitchyardBinding & { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> };
}

export interface CallRequest {
  via: 'rpc' | 'http';
  command: keyof ReturnType<typeof commands>;
  input: unknown;
  key: string;
  token?: string;
}

export default {
  async fetch(request: Request, env: CallerEnv): Promise<Response> {
    const call = (await request.json()) as CallRequest;
    const transport: Transport =
      call.via === 'rpc'
        ? { binding: env.SWITCHYARD }
        : {
            url: 'https://switchyard.internal',
            token: call.token ?? '',
            fetch: (input, init) => env.SWITCHYARD.fetch(input, init),
          };
    const client = commands(transport) as Record<
      string,
      (input: unknown, options: { idempotencyKey: string }) => Promise<unknown>
    >;
    try {
      return Response.json({
        ok: true,
        accepted: await client[call.command]!(call.input, { idempotencyKey: call.key }),
      });
    } catch (error) {
      if (error instanceof CommandError)
        return Response.json({
          ok: false,
          status: error.status,
          error: error.error,
          reason: error.reason,
          problems: error.problems,
        });
      return Response.json({ ok: false, thrown: String(error) }, { status: 500 });
    }
  },
};
