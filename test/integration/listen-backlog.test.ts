/**
 * The server asks the kernel for the longest accept queue it allows, not Node's default of 511:
 * 10,000 clients connecting at once overflow 511 and their SYNs are dropped (docs/performance.md,
 * "Many clients"). Read back from the real listening socket with `ss`, whose Send-Q column is a
 * listener's backlog.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { cleanup, startServer } from '../helpers/harness.js';

after(cleanup);

test('fex serve listens with the largest backlog the kernel allows', async (t) => {
  const somaxconn = Number(
    (await readFile('/proc/sys/net/core/somaxconn', 'utf8').catch(() => '')).trim(),
  );
  if (!(somaxconn > 511)) return t.skip('needs Linux with net.core.somaxconn above 511');
  const server = await startServer();
  const listed = await promisify(execFile)('ss', ['-Hltn', `sport = :${server.port}`]).catch(
    () => null,
  );
  if (listed === null) return t.skip('needs ss (iproute2)');
  const [state, , backlog] = listed.stdout.trim().split(/\s+/);
  assert.equal(state, 'LISTEN');
  assert.equal(Number(backlog), Math.min(somaxconn, 65_535));
});
