import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inboxPrefix, permissionsOf, permits, type Role } from './identities.js';

const submitter: Role = { kind: 'submitter' };
const operator: Role = { kind: 'operator' };
const agentA: Role = { kind: 'agent', host: 'host-a' };
const placer: Role = { kind: 'service', service: 'placer' };
const monitor: Role = { kind: 'service', service: 'monitor' };
const intake: Role = { kind: 'service', service: 'intake' };
const api: Role = { kind: 'service', service: 'api' };
const notifier: Role = { kind: 'service', service: 'notifier' };
const autoscaler: Role = { kind: 'service', service: 'autoscaler' };

describe('identities: who may publish what', () => {
  const cases: [string, Role, string, boolean][] = [
    ['a submitter submits', submitter, 'tasks.submit', true],
    ['a submitter cancels', submitter, 'tasks.cancel', true],
    ['a submitter asks tasks.get', submitter, 'tasks.get', true],
    ['a submitter may not dispatch', submitter, 'agents.host-a.run', false],
    ['a submitter may not stop a run', submitter, 'agents.host-a.stop', false],
    ['a submitter may not report an exit', submitter, 'runs.host-a.exited', false],
    ['a submitter may not announce a host', submitter, 'hosts.announce.host-x', false],
    ['an agent reports its own runs', agentA, 'runs.host-a.exited', true],
    ['an agent may not report another host\'s runs', agentA, 'runs.host-b.exited', false],
    ['an agent announces its own host', agentA, 'hosts.announce.host-a', true],
    ['an agent may not announce as another host', agentA, 'hosts.announce.host-b', false],
    ['a submitter may not drain', submitter, 'hosts.drain', false],
    ['an operator drains', operator, 'hosts.drain', true],
    ['a submitter may not delete a stream', submitter, '$JS.API.STREAM.DELETE.TANGERINE_DISPATCH', false],
    ['a submitter may not purge a stream', submitter, '$JS.API.STREAM.PURGE.TANGERINE_EVENTS', false],
    ['a submitter may not read a stored dispatch', submitter, '$JS.API.STREAM.MSG.GET.TANGERINE_DISPATCH', false],
    ['a submitter reads events through its own consumer', submitter, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_EVENTS.abc_1', true],
    ['a submitter may not pull a resolver durable', submitter, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_EVENTS.resolver-failed', false],
    ['a submitter may not delete a resolver durable', submitter, '$JS.API.CONSUMER.DELETE.TANGERINE_EVENTS.resolver-failed', false],
    ['a submitter may not pull the intake durable', submitter, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_COMMANDS.intake', false],
    ['only the placer dispatches', placer, 'agents.host-a.run', true],
    ['the monitor does not dispatch', monitor, 'agents.host-a.run', false],
    ['intake stops a cancelled run', intake, 'agents.host-a.stop', true],
    ['an agent may not dispatch', agentA, 'agents.host-b.run', false],
    ['an agent may not dispatch to itself', agentA, 'agents.host-a.run', false],
    ['an agent pulls its own consumer', agentA, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_DISPATCH.agent-host-a', true],
    ['an agent may not pull another host\'s consumer', agentA, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_DISPATCH.agent-host-b', false],
    ['an agent creates its consumer on its own subjects', agentA, '$JS.API.CONSUMER.CREATE.TANGERINE_DISPATCH.agent-host-a.agents.host-a.>', true],
    ['an agent may not give its consumer another host\'s filter', agentA, '$JS.API.CONSUMER.CREATE.TANGERINE_DISPATCH.agent-host-a.agents.host-b.>', false],
    ['an agent may not create its consumer without the filter in the subject', agentA, '$JS.API.CONSUMER.CREATE.TANGERINE_DISPATCH.agent-host-a', false],
    ['an agent may not read a stored dispatch', agentA, '$JS.API.STREAM.MSG.GET.TANGERINE_DISPATCH', false],
    ['an agent may not create a stream', agentA, '$JS.API.STREAM.CREATE.TANGERINE_DISPATCH', false],
    ['an agent may not submit', agentA, 'tasks.submit', false],
    ['a service provisions its streams', intake, '$JS.API.STREAM.UPDATE.TANGERINE_COMMANDS', true],
    ['a service may not delete a stream', intake, '$JS.API.STREAM.DELETE.TANGERINE_COMMANDS', false],
    ['the api may not publish events', api, 'tasks.events.x.success', false],
    ['the api submits (the HTTP API writes through the bus)', api, 'tasks.submit', true],
    ['the api cancels', api, 'tasks.cancel', true],
    ['the api asks host-health to drain a host', api, 'hosts.drain', true],
    ['the api reads the events stream through an ordered consumer', api, '$JS.API.CONSUMER.CREATE.TANGERINE_EVENTS', true],
    ['the api may not take over a resolver\'s durable consumer', api, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_EVENTS.resolver-failed', false],
    ['the api may not dispatch', api, 'agents.host-a.run', false],
    ['a submitter puts a template', submitter, 'templates.put', true],
    ['a submitter asks templates.get and templates.list', submitter, 'templates.list', true],
    ['intake answers a put on templates.events', intake, 'templates.events.py', true],
    ['a submitter may not forge a template event', submitter, 'templates.events.py', false],
    ['the api puts a template (POST /v1/templates)', api, 'templates.put', true],
    ['the api may not forge a template event', api, 'templates.events.py', false],
    ['an agent may not put a template', agentA, 'templates.put', false],
    ['a submitter stores a file\'s chunks', submitter, '$O.tangerine_files.C.abc', true],
    ['a submitter stores a file\'s metadata', submitter, '$O.tangerine_files.M.YWJj', true],
    ['a submitter may not purge a file\'s chunks', submitter, '$JS.API.STREAM.PURGE.OBJ_tangerine_files', false],
    ['a submitter may not delete a stored chunk', submitter, '$JS.API.STREAM.MSG.DELETE.OBJ_tangerine_files', false],
    ['the api stores files', api, '$O.tangerine_files.C.abc', true],
    ['an agent reads a file\'s metadata', agentA, '$JS.API.STREAM.MSG.GET.OBJ_tangerine_files', true],
    ['an agent reads a file through a consumer of its own', agentA, '$JS.API.CONSUMER.CREATE.OBJ_tangerine_files.x.$O.tangerine_files.C.abc', true],
    ['an agent may not write a file', agentA, '$O.tangerine_files.C.abc', false],
    ['an agent may not write a file\'s metadata (a deleted marker)', agentA, '$O.tangerine_files.M.YWJj', false],
    ['an agent may not purge files', agentA, '$JS.API.STREAM.PURGE.OBJ_tangerine_files', false],
    ['an agent may not delete a stored chunk', agentA, '$JS.API.STREAM.MSG.DELETE.OBJ_tangerine_files', false],
    ['retention purges the chunks of a deleted file', { kind: 'service', service: 'host-health' }, '$JS.API.STREAM.PURGE.OBJ_tangerine_files', true],
    ['retention may not write chunks', { kind: 'service', service: 'host-health' }, '$O.tangerine_files.C.abc', false],
    ['a service provisions the files\' store', intake, '$JS.API.STREAM.CREATE.OBJ_tangerine_files', true],
    ['npm start\'s one process pulls the resolver\'s durable consumers, which its api part may not', { kind: 'tangerine', host: 'local' }, '$JS.API.CONSUMER.INFO.TANGERINE_EVENTS.resolver-failed', true],
    ['an agent publishes its own runs\' live output', agentA, 'output.host-a.t1.1', true],
    ['an agent may not publish another host\'s live output', agentA, 'output.host-b.t1.1', false],
    ['a submitter may not forge live output', submitter, 'output.host-a.t1.1', false],
    ['the api may not forge live output', api, 'output.host-a.t1.1', false],
    ['the notifier pulls its durable consumer of the events', notifier, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_EVENTS.notifier', true],
    ['the notifier acks its events', notifier, '$JS.ACK.TANGERINE_EVENTS.notifier.1.2.3.4.5.6', true],
    ['the notifier pulls its durable consumer of the dead letters', notifier, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_DEAD.notifier-dead', true],
    ['the notifier may not pull a resolver durable', notifier, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_EVENTS.resolver-failed', false],
    ['the notifier may not publish events', notifier, 'tasks.events.x.failed', false],
    ['the notifier may not submit', notifier, 'tasks.submit', false],
    ['the notifier may not dispatch', notifier, 'agents.host-a.run', false],
    ['a submitter may not pull the notifier\'s durable consumer', submitter, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_EVENTS.notifier', false],
    ['the api may not ack the notifier\'s events', api, '$JS.ACK.TANGERINE_EVENTS.notifier.1.2.3.4.5.6', false],
    ['an operator may not pull the notifier\'s dead letters', operator, '$JS.API.CONSUMER.MSG.NEXT.TANGERINE_DEAD.notifier-dead', false],
    ['the autoscaler drains hosts', autoscaler, 'hosts.drain', true],
    ['the autoscaler undrains hosts', autoscaler, 'hosts.undrain', true],
    ['the autoscaler tells what it did', autoscaler, 'scaling.events.local.drain', true],
    ['the autoscaler may not publish host events', autoscaler, 'hosts.events.h1.down', false],
    ['the autoscaler may not dispatch', autoscaler, 'agents.host-a.run', false],
    ['the autoscaler may not submit', autoscaler, 'tasks.submit', false],
    ['a submitter may not forge scaling events', submitter, 'scaling.events.local.drain', false],
    ['an agent may not forge scaling events', agentA, 'scaling.events.local.terminate', false],
    ['admin may do anything', { kind: 'admin' }, '$JS.API.STREAM.DELETE.TANGERINE_DISPATCH', true],
  ];
  for (const [what, role, subject, allowed] of cases) {
    it(what, () => assert.equal(permits(permissionsOf(role).publish, subject), allowed, subject));
  }
});

describe('identities: who may subscribe to what', () => {
  const cases: [string, Role, string, boolean][] = [
    ['a submitter follows every event', submitter, 'tasks.events.>', true],
    ['a submitter follows one task', submitter, 'tasks.events.t1.*', true],
    ['a submitter hears rejections', submitter, 'tasks.rejected', true],
    ['a submitter reads replies under _INBOX', submitter, '_INBOX.abc', true],
    ['a submitter may not sniff dispatches', submitter, 'agents.host-a.run', false],
    ['a submitter may not sniff every subject', submitter, '>', false],
    ['a submitter may not read an agent\'s replies', submitter, '_INBOX_agent-host-a.>', false],
    ['a submitter may not hear announcements', submitter, 'hosts.announce.*', false],
    ['the placer hears every announcement', placer, 'hosts.announce.*', true],
    ['a submitter may not read dead letters', submitter, 'deadletters.>', false],
    ['an operator reads dead letters', operator, 'deadletters.>', true],
    ['an agent may not sniff another host\'s dispatches', agentA, 'agents.host-b.run', false],
    ['an agent may not sniff its own subject outside its consumer', agentA, 'agents.host-a.run', false],
    ['an agent reads its own replies', agentA, '_INBOX_agent-host-a.x', true],
    ['an agent may not read the placer\'s replies', agentA, '_INBOX_placer.x', false],
    ['the api answers tasks.get', api, 'tasks.get', true],
    ['the api may not answer hosts.drain', api, 'hosts.drain', false],
    ['the api answers templates.get', api, 'templates.get', true],
    ['the api answers templates.list', api, 'templates.list', true],
    ['a submitter hears template events', submitter, 'templates.events.>', true],
    ['a submitter may not answer templates.get', submitter, 'templates.get', false],
    ['a submitter follows a run\'s live output', submitter, 'output.*.t1.1', true],
    ['an operator follows live output', operator, 'output.>', true],
    ['the api follows live output (HTTP follow)', api, 'output.*.t1.1', true],
    ['the api hears a followed task\'s events', api, 'tasks.events.t1.*', true],
    ['an agent may not hear live output', agentA, 'output.>', false],
    ['the notifier hears nothing outside its consumers', notifier, 'tasks.events.>', false],
    ['the notifier reads its own replies', notifier, '_INBOX_notifier.x', true],
    ['a submitter hears scaling events', submitter, 'scaling.events.>', true],
    ['the autoscaler reads its own replies', autoscaler, '_INBOX_autoscaler.x', true],
    ['the autoscaler hears no task events', autoscaler, 'tasks.events.>', false],
  ];
  for (const [what, role, subject, allowed] of cases) {
    it(what, () => assert.equal(permits(permissionsOf(role).subscribe, subject), allowed, subject));
  }
});

describe('identities: inbox prefixes', () => {
  it('people keep the default, services and agents have roots of their own', () => {
    assert.equal(inboxPrefix(submitter), '_INBOX');
    assert.equal(inboxPrefix(agentA), '_INBOX_agent-host-a');
    assert.equal(inboxPrefix(placer), '_INBOX_placer');
  });
  it('only the responders may answer requests', () => {
    assert.equal(permissionsOf(api).allowResponses, true);
    assert.equal(permissionsOf({ kind: 'service', service: 'host-health' }).allowResponses, true);
    assert.equal(permissionsOf(agentA).allowResponses, false);
    assert.equal(permissionsOf(submitter).allowResponses, false);
  });
});
