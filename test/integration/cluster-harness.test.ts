/**
 * The cluster harness (test/helpers/cluster.ts) on two local-storage servers behind the real
 * haproxy: one-shot commands and a shell session work through the balancer, connections reach
 * both servers, and after `kill -9` of one server the next commands still succeed, without
 * waiting for the health checks to notice; restart(i) brings it back on its port.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { cleanup, makeUser } from '../helpers/harness.js';
import { needService } from '../helpers/services.js';

/**
 * A new user registers `handle` through the cluster's address in one command; resolves with the
 * index of the server whose log says it registered the handle.
 */
async function register(cluster: Cluster, handle: string): Promise<number> {
  const user = await makeUser();
  const r = await user.run(['register', handle, '--server', cluster.address]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Welcome ${handle}!\n`);
  const line = new RegExp(` registered ${handle}$`);
  return Promise.race(cluster.servers.map((server, i) => server.waitForLine(line).then(() => i)));
}

/** Registers each handle in turn; the index of the server that took each. */
async function registerAll(cluster: Cluster, handles: string[]): Promise<number[]> {
  const servers = [];
  for (const handle of handles) servers.push(await register(cluster, handle));
  return servers;
}

describe('cluster harness', () => {
  after(cleanup);

  it('balances one-shot commands and a shell over two servers, past a kill -9', async (t) => {
    if (!needService(t, 'haproxy')) return;
    const cluster = await startCluster({ servers: 2 });
    assert.deepEqual(await cluster.balancer.states(), ['UP', 'UP']);
    const [host, port] = cluster.address.split(':') as [string, string];

    const joiner = await makeUser();
    const joined = await joiner.run(['join', host, port]);
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal(joined.stdout, 'Connection to the File Exchange Server is successful!\n');

    const spread = await registerAll(cluster, ['Ann', 'Bob', 'Cid', 'Dee']);
    assert.deepEqual([...new Set(spread)].sort(), [0, 1], `round robin: ${spread}`);

    // A shell holds one connection, so register and dir meet the same server.
    const shell = await makeUser();
    const script = `/join ${host} ${port}\n/register Eve\n/dir\n/leave\n`;
    const session = await shell.run([], { input: script });
    assert.equal(session.code, 0, session.stderr);
    assert.match(session.stdout, /Welcome Eve!\nServer Directory\n/);

    await cluster.kill9(0);
    assert.equal(cluster.servers[0]!.process.signalCode, 'SIGKILL');
    // At once, whether or not a health check has marked it down yet (the next test leaves
    // haproxy no check to learn it from).
    assert.deepEqual(await registerAll(cluster, ['Fay', 'Gus', 'Hal', 'Ida']), [1, 1, 1, 1]);
    await cluster.balancer.waitFor(0, 'DOWN');

    const oldPort = cluster.servers[0]!.port;
    const restarted = await cluster.restart(0);
    assert.equal(restarted.port, oldPort);
    assert.deepEqual(await cluster.balancer.states(), ['UP', 'UP']);
    const again = await registerAll(cluster, ['Jo', 'Kai']);
    assert.ok(again.includes(0), `the restarted server takes connections again: ${again}`);
  });

  it('skips a dead server its checks still call UP: a refused connection is redispatched', async (t) => {
    if (!needService(t, 'haproxy')) return;
    const cluster = await startCluster({ servers: 2, checkInterval: '1h' });
    await cluster.kill9(0);
    assert.deepEqual(await cluster.balancer.states(), ['UP', 'UP']);
    assert.deepEqual(await registerAll(cluster, ['Lee', 'Max', 'Ned']), [1, 1, 1]);
  });
});
