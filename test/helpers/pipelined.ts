/** Many requests sent back to back on one raw connection, for load and limits tests. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Header } from '../../src/protocol/constants.js';
import type { RawClient } from './raw-client.js';

const ONE_BYTE = Buffer.from('x');
const ONE_BYTE_SHA = createHash('sha256').update(ONE_BYTE).digest('hex');

/** Sends `requests` pipelined on one connection; resolves once every one is answered `ok`. */
export async function pipelined(
  client: RawClient,
  requests: Array<[Header, Buffer?]>,
): Promise<void> {
  const answers = (async () => {
    for (let i = 0; i < requests.length; i++) {
      const answer = await client.next();
      assert.equal(answer?.type, 'ok', JSON.stringify(answer));
    }
  })();
  for (const [header, body] of requests) client.send(header, body);
  await answers;
}

/** Stores 1-byte files under `names`, pipelined on one connection. */
export function storeAll(client: RawClient, names: string[], firstId: number): Promise<void> {
  return pipelined(
    client,
    names.map((name, i) => [
      { type: 'store', id: firstId + i, name, size: 1, sha256: ONE_BYTE_SHA },
      ONE_BYTE,
    ]),
  );
}
