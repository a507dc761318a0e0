/**
 * `switchyard handshake [status] | arm <integration> [--seconds N] | forget <integration>  [--url URL]`: the
 * operator's side of handshakes that hand over a signing secret (Asana's X-Hook-Secret, Notion's
 * verification_token). Such a handshake is unsigned, so the runtime accepts one only while armed: arm, then create
 * the webhook at the provider within the window. Talks to the runtime's admin API, like replay.
 */
import { UsageError } from '../lib/args.ts';
import { defineCommand, parseCommand, URL_FLAG } from '../lib/command.ts';
import { projectFor } from '../lib/project.ts';
import { ARM_DEFAULT_SECONDS, ARM_MAX_SECONDS } from '../../runtime/edge/handshake.ts';
import { adminCall, adminTarget } from '../lib/server.ts';

export const handshakeSpec = defineCommand({
  name: 'handshake',
  summary: 'arm (or forget) a handshake that hands over a signing secret (Asana, Notion)',
  description: `Some providers hand over their signing secret in an unsigned handshake when the webhook is created
(Asana's X-Hook-Secret, Notion's verification_token). The runtime accepts one only while it is armed: arm the
integration, then create the webhook at the provider within the window; one handshake is accepted, then it closes.
status lists the integrations that learn their secret this way; forget drops a learnt secret (deliveries are
refused until a new handshake sets one). It talks to the runtime's admin API, like replay.`,
  arguments: [
    { name: '[status | arm <integration> | forget <integration>]', description: 'what to do (default: status)' },
  ],
  flags: {
    seconds: {
      type: 'string',
      value: 'N',
      defaultText: String(ARM_DEFAULT_SECONDS),
      description: `with arm: how long the window stays open, in seconds (1 to ${ARM_MAX_SECONDS})`,
    },
    url: URL_FLAG,
  },
  examples: [
    { command: 'switchyard handshake arm asana', does: 'open the window, then create the webhook in Asana' },
    { command: 'switchyard handshake', does: 'which integrations have their secret, and which are armed' },
  ],
});

export async function handshakeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(handshakeSpec, args);
  const [action = 'status', integration, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (!['status', 'arm', 'forget'].includes(action))
    throw new UsageError(`unknown action ${action}: status, arm or forget`);
  if (action !== 'status' && !integration) throw new UsageError(`${action} needs an integration`);
  if (values.seconds !== undefined && action !== 'arm') throw new UsageError('--seconds goes with arm');
  const project = projectFor();
  const target = adminTarget(project, values.url);
  if (!target) return 2;
  const { url, token } = target;
  const path = (rest: string) => `/handshakes/${encodeURIComponent(integration!)}${rest}`;
  if (action === 'arm') {
    const query = values.seconds === undefined ? '' : `?seconds=${encodeURIComponent(values.seconds)}`;
    const { armed_until } = await adminCall<{ armed_until: string }>(url, token, path(`/arm${query}`), {
      method: 'POST',
    });
    console.log(
      `${integration}: armed until ${armed_until}; create the webhook at the provider now (one handshake is accepted, then it closes)`,
    );
    return 0;
  }
  if (action === 'forget') {
    await adminCall(url, token, path('/secret'), { method: 'DELETE' });
    console.log(
      `${integration}: the learnt secret is forgotten; deliveries are refused until you arm and the provider's handshake sets a new one`,
    );
    return 0;
  }
  const { handshakes } = await adminCall<{
    handshakes: { integration: string; secret_set: boolean; armed: boolean }[];
  }>(url, token, '/handshakes');
  if (!handshakes.length) console.log('no integration learns its secret from a handshake');
  for (const h of handshakes)
    console.log(`${h.integration}  ${h.secret_set ? 'secret set' : 'no secret yet'}${h.armed ? '  armed' : ''}`);
  return 0;
}
