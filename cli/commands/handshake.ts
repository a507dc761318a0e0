/**
 * `switchyard handshake [status] | arm <integration> [--seconds N] | forget <integration>  [--url URL]`: the
 * operator's side of handshakes that hand over a signing secret (Asana's X-Hook-Secret, Notion's
 * verification_token). Such a handshake is unsigned, so the runtime accepts one only while armed: arm, then create
 * the webhook at the provider within the window. Talks to the runtime's admin API, like replay.
 */
import { parseArgs, UsageError } from '../lib/args.ts';
import { projectFor } from '../lib/project.ts';
import { adminCall, adminToken, serverUrl } from '../lib/server.ts';

export async function handshakeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs(args, { seconds: { type: 'string' }, url: { type: 'string' } });
  const [action = 'status', integration, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (!['status', 'arm', 'forget'].includes(action)) throw new UsageError(`unknown action ${action}: status, arm or forget`);
  if (action !== 'status' && !integration) throw new UsageError(`${action} needs an integration`);
  if (values.seconds !== undefined && action !== 'arm') throw new UsageError('--seconds goes with arm');
  const project = projectFor();
  const url = serverUrl(project, values.url);
  const token = adminToken(project);
  if (!token) {
    console.error('no admin token: set ADMIN_TOKEN in the environment or in .dev.vars');
    return 2;
  }
  const path = (rest: string) => `/handshakes/${encodeURIComponent(integration!)}${rest}`;
  if (action === 'arm') {
    const query = values.seconds === undefined ? '' : `?seconds=${encodeURIComponent(values.seconds)}`;
    const { armed_until } = await adminCall<{ armed_until: string }>(url, token, path(`/arm${query}`), { method: 'POST' });
    console.log(`${integration}: armed until ${armed_until}; create the webhook at the provider now (one handshake is accepted, then it closes)`);
    return 0;
  }
  if (action === 'forget') {
    await adminCall(url, token, path('/secret'), { method: 'DELETE' });
    console.log(`${integration}: the learnt secret is forgotten; deliveries are refused until you arm and the provider's handshake sets a new one`);
    return 0;
  }
  const { handshakes } = await adminCall<{ handshakes: { integration: string; secret_set: boolean; armed: boolean }[] }>(url, token, '/handshakes');
  if (!handshakes.length) console.log('no integration learns its secret from a handshake');
  for (const h of handshakes) console.log(`${h.integration}  ${h.secret_set ? 'secret set' : 'no secret yet'}${h.armed ? '  armed' : ''}`);
  return 0;
}
