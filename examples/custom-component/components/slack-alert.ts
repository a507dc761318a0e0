/**
 * A project's own action, in one file: posts a message to a Slack incoming webhook. The manifest names this file
 * under `components:`; from then on `action: slack-alert` is checked, typed, tested and bundled like a built-in
 * action. In a project that installs switchyard, the imports below come from the package's component entry point.
 */
import { providerError, type ActionOutcome } from '../../../runtime/component/action.ts';
import { readSecrets } from '../../../runtime/component/context.ts';
import { defineComponent } from '../../../runtime/component/define.ts';
import { field } from '../../../runtime/component/spec.ts';
import { compileValue } from '../../../runtime/language/values.ts';
import type { Value } from '../../../runtime/manifest/types.gen.ts';

/** What one alert sends: Slack's incoming-webhook message. */
export interface SlackMessage {
  text: string;
  channel?: string;
  icon_emoji?: string;
}

export const slackAlert = defineComponent({
  kind: 'action',
  name: 'slack-alert',
  title: 'SlackAlertAction',
  description: 'Posts a message to a Slack incoming webhook (the webhook URL is a secret).',
  spec: {
    webhook_url: field
      .secret()
      .describe('Env var holding the incoming webhook URL (https://hooks.slack.com/services/…).'),
    text: field
      .ref<Value>('Value')
      .describe('The message: a value from the event, e.g. { template: "New issue: {issue.title}" }.'),
    channel: field
      .string({ pattern: '^#[a-z0-9_-]+$' })
      .optional()
      .describe("Post to this channel instead of the webhook's own."),
    icon_emoji: field.string({ pattern: '^:[a-z0-9_+-]+:$' }).optional(),
  },
  example: { action: 'slack-alert', webhook_url: 'SLACK_WEBHOOK_URL', text: { template: 'New issue: {issue.title}' } },
  // `options` is typed from the spec above: { webhook_url: string; text: Value; channel?: string; icon_emoji?: string }.
  create(options) {
    const text = compileValue(options.text);
    return {
      type: 'slack-alert',
      maxBatch: 1,
      prepare: (ctx): SlackMessage => ({
        text: String(text(ctx.values)),
        ...(options.channel ? { channel: options.channel } : {}),
        ...(options.icon_emoji ? { icon_emoji: options.icon_emoji } : {}),
      }),
      describe: (payload) => ({ to: options.channel ?? "the webhook's channel", text: (payload as SlackMessage).text }),
      async send(items, io): Promise<ActionOutcome[]> {
        const [url] = readSecrets(io.env, options.webhook_url);
        return Promise.all(
          items.map(async (item): Promise<ActionOutcome> => {
            const res = await io.fetch(url!, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(item.payload),
            });
            if (!res.ok) return { ok: false, error: await providerError('slack-alert', res, io.now) };
            return { ok: true, result: { status: res.status } };
          }),
        );
      },
    };
  },
});
