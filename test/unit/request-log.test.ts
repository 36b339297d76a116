import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestEvent } from '../../src/server/request-log.js';

const who = { handle: 'Ann', remote: '127.0.0.1:5000' };

test('a log line counts one file and one byte in the singular, more in the plural', () => {
  const line = (type: string, answer: Record<string, unknown>) =>
    requestEvent(who, { type }, { type: 'ok', ...answer }, undefined)?.msg;
  assert.equal(line('dir', { count: 1 }), 'Ann listed the directory (1 file)');
  assert.equal(line('dir', { count: 0 }), 'Ann listed the directory (0 files)');
  assert.equal(line('store', { name: 'a', size: 1 }), 'Ann stored a (1 byte)');
  assert.equal(line('get', { name: 'a', size: 2 }), 'Ann fetched a (2 bytes)');
  assert.equal(line('delete', { name: 'a', size: 1 }), 'Ann deleted a (1 byte)');
});
