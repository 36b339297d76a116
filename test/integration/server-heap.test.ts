/**
 * `fex serve` re-executes itself once with `--initial-old-space-size=48` where Node has
 * `process.execve` (bin/run.js; docs/performance.md, "Mark-compact storms on the receiving end"):
 * same process id, same stdio, the operator's own choice of size kept. Read back from the real
 * server's /proc/PID/cmdline, and the server is then used over TCP to show it serves as before.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanup, makeUser, startServer } from '../helpers/harness.js';

after(cleanup);

const FLAG = '--initial-old-space-size';

async function nodeArgsOf(pid: number): Promise<string[]> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  return argv.slice(
    1,
    argv.findIndex((arg) => arg.endsWith(join('bin', 'run.js'))),
  );
}

test('fex serve gives V8 a 48 MB old-generation limit where Node can re-execute', async (t) => {
  if (process.platform !== 'linux') return t.skip('reads /proc');
  const server = await startServer({ nodeArgs: ['--max-http-header-size=20000'] });
  const args = await nodeArgsOf(server.process.pid!);
  if (typeof process.execve === 'function') {
    // The flag first, then what the server was started with, in the same process.
    assert.deepEqual(args, [`${FLAG}=48`, '--max-http-header-size=20000']);
  } else {
    // Node before 22.15: no re-execution, the server starts as it was asked to.
    assert.deepEqual(args, ['--max-http-header-size=20000']);
  }
  // Still the server the harness saw start (its ready line came through the same stdout), and
  // it serves: a store and a listing over TCP.
  const user = await makeUser();
  const on = ['--server', server.address];
  await writeFile(join(user.home, 'heap.txt'), 'room\n');
  assert.equal((await user.run(['register', 'Heidi', ...on])).code, 0);
  const stored = await user.run(['store', 'heap.txt', ...on]);
  assert.equal(stored.code, 0, stored.stderr);
  assert.match((await user.run(['dir', ...on])).stdout, /heap\.txt/);
  assert.equal(server.stderr(), '');
});

test("fex serve keeps an operator's own --initial-old-space-size and does not start over", async (t) => {
  if (process.platform !== 'linux') return t.skip('reads /proc');
  const server = await startServer({ nodeArgs: [`${FLAG}=32`] });
  assert.deepEqual(await nodeArgsOf(server.process.pid!), [`${FLAG}=32`]);
  // V8's other spelling of the same flag is the operator's choice too.
  const underscored = await startServer({ nodeArgs: ['--initial_old_space_size=40'] });
  assert.deepEqual(await nodeArgsOf(underscored.process.pid!), ['--initial_old_space_size=40']);
});
