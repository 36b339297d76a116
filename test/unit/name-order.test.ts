/** The sorted name index behind listing pages and file limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byCodePoint } from '../../src/shared/code-point-order.js';
import { NameOrder } from '../../src/server/storage/name-order.js';

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('NameOrder', () => {
  it('orders by code point, as UTF-8 bytes do, surrogate pairs included', () => {
    const names = ['a', 'B', 'é', '\u{1F600}', '\uFF01', 'ab', '', 'Z', '\uE000', '\u{10000}x'];
    assert.deepEqual([...names].sort(byCodePoint), [...names].sort(utf8Order));
  });

  it('pages with after, prefix and limit, and counts per owner', () => {
    const order = new NameOrder();
    for (const name of ['b2', 'a1', 'b1', 'c1', 'b3'])
      order.add(name, name.startsWith('b') ? 'Bo' : null);
    assert.deepEqual(order.slice(), ['a1', 'b1', 'b2', 'b3', 'c1']);
    assert.deepEqual(order.slice({ prefix: 'b', limit: 2 }), ['b1', 'b2']);
    assert.deepEqual(order.slice({ prefix: 'b', after: 'b2' }), ['b3']);
    assert.deepEqual(order.slice({ prefix: 'b', after: 'a' }), ['b1', 'b2', 'b3']);
    assert.deepEqual(order.slice({ after: 'b25' }), ['b3', 'c1']);
    assert.deepEqual(order.slice({ prefix: 'z' }), []);
    assert.deepEqual([order.size, order.countOf('Bo'), order.countOf(null)], [5, 3, 2]);
    order.add('b2', 'Bo', 'Bo');
    order.remove('b1', 'Bo');
    order.remove('nope', 'Bo');
    assert.deepEqual([order.size, order.countOf('Bo')], [4, 2]);
  });
});
