/** Sizes as operators write them on the command line. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSize } from '../../src/shared/sizes.js';

describe('parseSize', () => {
  it('reads plain byte counts and binary units', () => {
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('0'), 0);
    assert.equal(parseSize('512KiB'), 512 * 1024);
    assert.equal(parseSize('10MB'), 10 * 1024 ** 2);
    assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
    assert.equal(parseSize('1t'), 1024 ** 4);
    assert.equal(parseSize('100b'), 100);
  });

  it('ignores case and white space around the number and unit', () => {
    assert.equal(parseSize(' 10 mb '), 10 * 1024 ** 2);
    assert.equal(parseSize('4k'), 4096);
  });

  it('refuses what is not a size', () => {
    for (const text of [
      '',
      ' ',
      'abc',
      '-1',
      '10XB',
      'MB',
      '1.',
      '.5K',
      '1e3',
      '10 M B',
      '9'.repeat(20),
    ])
      assert.equal(parseSize(text), undefined, JSON.stringify(text));
  });
});
