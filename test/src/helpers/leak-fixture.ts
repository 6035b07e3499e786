/**
 * A test file that leaves behind what LEAK names (server, socket, timer, child, detached, container, none): run by
 * integration/leak-check.test.ts under the leaked-handle check, which must fail it, naming the leak.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { trackHosts } from './leak-check.js';

const TEST_IMAGE = 'tangerine-test/busybox:latest';

describe('a file that leaks', () => {
  it(`leaves a ${process.env['LEAK'] ?? 'none'} behind`, async () => {
    const leak = process.env['LEAK'] ?? 'none';
    if (leak === 'server' || leak === 'socket') {
      const server = net.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      if (leak === 'socket') {
        const port = (server.address() as net.AddressInfo).port;
        await new Promise<void>((r) => { net.connect(port, '127.0.0.1', r); });
        server.unref();
      }
    } else if (leak === 'timer') {
      setTimeout(() => undefined, 60_000);
    } else if (leak === 'child') {
      spawn('sleep', ['60'], { stdio: 'ignore' });
    } else if (leak === 'container') {
      const host = `leak-fixture-${process.pid}`;
      trackHosts(host);
      await new Docker().createContainer({ Image: TEST_IMAGE, Cmd: ['true'], Labels: { 'tangerine.host': host, 'tangerine.task': 'leaked' } });
    } else if (leak === 'detached') {
      spawn('sleep', ['60'], { stdio: 'ignore', detached: true }).unref();
    }
    assert.ok(true);
  });
});
