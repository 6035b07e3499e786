import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Docker from 'dockerode';
import { DockerExecutor, LABELS, containerName } from '@tangerine/agent';
import { parseTaskSpec, type RunDispatch } from '@tangerine/contracts';
import { TEST_IMAGE } from '../helpers/cluster.js';
import { trackHosts } from '../helpers/leak-check.js';

const docker = new Docker();
const host = `docker-executor-test-${process.pid}`;
trackHosts(host);

function dispatch(name: string, command: string[]): RunDispatch {
  return { name, attempt: 1, host, spec: parseTaskSpec({ name, image: TEST_IMAGE, command }) };
}

const containersOf = async (name: string) =>
  docker.listContainers({ all: true, filters: { label: [`${LABELS.task}=${name}`, `${LABELS.host}=${host}`] } });

/** The docker executor against the real engine: a dispatch delivered twice never makes a second container. */
describe('docker executor, real Docker', () => {
  const executor = new DockerExecutor(docker, 1000);
  after(async () => {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.host}=${host}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
  });

  it('a second start of the same run follows the container the first one made', async () => {
    const run = dispatch('twice-started', ['sleep', '1']);
    const first = await executor.start(run);
    const second = await executor.start(run);
    assert.equal(second.runId, first.runId);
    assert.equal((await containersOf('twice-started')).length, 1);
    const [a, b] = await Promise.all([first.done, second.done]);
    assert.equal(a.exit_code, 0);
    assert.equal(b.exit_code, 0);
    assert.equal((await containersOf('twice-started')).length, 1, 'kept until its exit is reported');
    await first.cleanup?.();
    assert.deepEqual(await containersOf('twice-started'), [], 'removed by the cleanup after the report');
  });

  it('a container made but never started (the agent died in between) is started, not made again', async () => {
    const run = dispatch('made-not-started', ['sh', '-c', 'exit 3']);
    const made = await docker.createContainer({ name: containerName(run), Image: TEST_IMAGE, Cmd: run.spec.command, Labels: { [LABELS.task]: run.name, [LABELS.host]: host } });
    const started = await executor.start(run);
    assert.equal(started.runId, made.id);
    assert.equal((await started.done).exit_code, 3);
  });

  it('an image that is not here and cannot be pulled fails the start with the pull error', async () => {
    await assert.rejects(executor.start({ ...dispatch('no-image', ['true']), spec: parseTaskSpec({ name: 'no-image', image: 'tangerine-test/absent:1', command: ['true'] }) }),
      /^ExecutorError: pull image tangerine-test\/absent:1: /);
    assert.deepEqual(await containersOf('no-image'), []);
  });
});
