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

test('a string the rules let through is logged as it is unless printable() would change it', () => {
  const line = (request: { type: string; name?: string }) =>
    requestEvent(who, request, { type: 'ok' }, undefined)?.msg;
  // Request types of plugins are not names: only what would reach a terminal is checked.
  assert.equal(line({ type: 'thumb' }), 'Ann thumb: ok');
  assert.equal(line({ type: 'thumb', name: 'café.txt' }), 'Ann thumb café.txt: ok');
  assert.equal(line({ type: 'x\u001b[2J' }), 'Ann "x\\u001b[2J": ok');
  // Invisible and direction-changing characters are quoted too, and escaped, which JSON alone
  // would not do: the override would reorder the rest of the line on the operator's screen.
  assert.equal(line({ type: 'a\u200bb' }), 'Ann "a\\u200bb": ok');
  assert.equal(line({ type: 'a\u202eb' }), 'Ann "a\\u202eb": ok');
  assert.equal(line({ type: 'tag\u{e0041}' }), 'Ann "tag\\udb40\\udc41": ok');
  // Printable non-ASCII inside a quoted string stays as it is.
  assert.equal(line({ type: 'café\u001b' }), 'Ann "café\\u001b": ok');
});
