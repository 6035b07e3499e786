import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Parse, RuleError, Settings, configError, defineConfig, setting, type ConfigOf, type Parser } from '@tangerine/runtime';
import { DEFAULT_NOTIFY, NOTIFY_KINDS } from './items.js';

/**
 * A webhook URL: http(s) with a host. Never quoted in an error (a secret setting's text is cut out of its messages).
 * http is taken for a receiver on the same machine or network (the tests', a proxy's); Slack's own are https.
 */
const webhookUrl: Parser<string> = (text) => {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RuleError('must be a URL such as https://hooks.slack.com/services/…');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RuleError('must be an https:// (or http://) URL');
  return url.toString();
};

/** A status page URL: http(s), kept as given, without a trailing slash. */
const pageUrl: Parser<string> = (text) => {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RuleError(`must be a URL such as https://tangerine.example.com (got "${text}")`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RuleError(`must be an https:// or http:// URL (got "${text}")`);
  return text.trim().replace(/\/+$/, '');
};

/**
 * notifier reads: the webhook (SLACK_WEBHOOK or SLACK_WEBHOOK_FILE, required: the notifier has nothing to do without
 * one; `npm start` runs it only when one is set), what to tell (NOTIFY_EVENTS), the grouping window
 * (NOTIFY_GROUP_WINDOW, 10 s: Alertmanager's group_wait is 30 s; a failure reaches the channel within about 11 s),
 * how long a message is tried while Slack answers 5xx or cannot be reached (NOTIFY_RETRY_FOR, 10 min), and the
 * status page's URL (STATUS_URL) for links.
 */
export const config = defineConfig({
  batchSize: Settings.batchSize,
  ackWaitMs: Settings.ackWaitMs,
  webhook: setting<string>('SLACK_WEBHOOK', webhookUrl, {
    fallback: () => {
      throw configError('SLACK_WEBHOOK', 'is required by the notifier (or SLACK_WEBHOOK_FILE: a file holding the URL)');
    },
    secret: true,
  }),
  notify: setting('NOTIFY_EVENTS', Parse.list(NOTIFY_KINDS), { fallback: DEFAULT_NOTIFY }),
  groupWindowMs: setting('NOTIFY_GROUP_WINDOW', Parse.seconds(3600), { fallback: 10_000 }),
  retryForMs: setting('NOTIFY_RETRY_FOR', Parse.seconds(), { fallback: 600_000 }),
  statusUrl: setting<string | null>('STATUS_URL', pageUrl, { fallback: null }),
});
export type NotifierConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<NotifierConfig>;
