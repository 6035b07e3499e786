import { start as agent } from '@tangerine/agent';
import { start as api } from '@tangerine/api';
import { start as cron } from '@tangerine/cron-service';
import { start as hostHealth } from '@tangerine/host-health';
import { start as intake } from '@tangerine/intake';
import { start as monitor } from '@tangerine/monitor';
import { start as placer } from '@tangerine/placer';
import { connectServices } from '@tangerine/platform';
import { start as relay } from '@tangerine/relay';
import { start as resolver } from '@tangerine/resolver';
import { runProcess } from '@tangerine/runtime';

/** Every service and one local agent in one process: `npm start` on a single machine. */
await runProcess({
  name: 'tangerine',
  connect: (base) => connectServices(base, 'tangerine'),
  services: [
    { name: 'intake', start: intake },
    { name: 'resolver', start: resolver },
    { name: 'placer', start: placer },
    { name: 'monitor', start: monitor },
    { name: 'cron', start: cron },
    { name: 'host-health', start: hostHealth },
    { name: 'relay', start: relay },
    { name: 'api', start: api },
    { name: 'agent', start: agent },
  ],
});
