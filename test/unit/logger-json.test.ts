/** The server's JSON-lines log, as an operator reads it on a terminal and a tool parses it. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { unprintable } from '../../src/protocol/names.js';
import { streamLogger } from '../../src/server/logger.js';

test('a JSON log line carries no character that steers a terminal, and parses back as sent', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const name = 'report\u202efdp.exe';
  const reason = 'refused: \u009b31m and \u200b';
  streamLogger(out, out, 'json').event({
    event: 'store',
    outcome: 'refused',
    msg: 'Raw store refused',
    name,
    reason,
  });
  // The logger writes lines of one tick together, on the next.
  await new Promise((resolve) => setImmediate(resolve));
  const [line] = text.split('\n');
  assert.equal(new RegExp(unprintable().source, 'u').test(line ?? ''), false, line);
  const parsed = JSON.parse(line ?? '') as { name: string; reason: string; level: number };
  assert.equal(parsed.name, name);
  assert.equal(parsed.reason, reason);
  assert.equal(parsed.level, 30);
});
