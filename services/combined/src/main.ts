import * as agent from '@tangerine/agent';
import * as api from '@tangerine/api';
import * as autoscaler from '@tangerine/autoscaler';
import * as cron from '@tangerine/cron-service';
import * as hostHealth from '@tangerine/host-health';
import * as intake from '@tangerine/intake';
import * as monitor from '@tangerine/monitor';
import * as notifier from '@tangerine/notifier';
import * as placer from '@tangerine/placer';
import { connectServices, serviceConnection } from '@tangerine/platform';
import * as relay from '@tangerine/relay';
import * as resolver from '@tangerine/resolver';
import { runProcess } from '@tangerine/runtime';

/** The notifier runs only when a webhook is set: without one it has nothing to do (and would refuse to start). */
const slack = Boolean(process.env['SLACK_WEBHOOK'] || process.env['SLACK_WEBHOOK_FILE']);
/** The autoscaler runs only when a provider is named (AUTOSCALER_PROVIDER=local: agent processes on this machine). */
const autoscale = Boolean(process.env['AUTOSCALER_PROVIDER']);

/** Every service and one local agent in one process: `npm start` on a single machine. */
await runProcess({
  name: 'tangerine',
  config: serviceConnection,
  connect: (base) => connectServices(base, 'tangerine'),
  services: [
    { name: 'intake', config: intake.config, start: intake.start },
    { name: 'resolver', config: resolver.config, start: resolver.start },
    { name: 'placer', config: placer.config, start: placer.start },
    { name: 'monitor', config: monitor.config, start: monitor.start },
    { name: 'cron', config: cron.config, start: cron.start },
    { name: 'host-health', config: hostHealth.config, start: hostHealth.start },
    { name: 'relay', config: relay.config, start: relay.start },
    { name: 'api', config: api.config, start: api.start },
    ...(slack ? [{ name: 'notifier', config: notifier.config, start: notifier.start }] : []),
    ...(autoscale ? [{ name: 'autoscaler', config: autoscaler.config, start: autoscaler.start }] : []),
    { name: 'agent', config: agent.config, start: agent.start },
  ],
});
