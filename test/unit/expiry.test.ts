/**
 * Ages as people write them, and how the server turns a store's request into an expiry: the
 * duration parser, `fex serve`'s --max-age/--default-age (flags and config file), and the rule
 * that picks a store's age within the maximum.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { expirySeconds, formatDuration, parseDuration } from '../../src/protocol/duration.js';
import { FexError } from '../../src/shared/errors.js';
import { storeAgeMs } from '../../src/server/expiry.js';
import { resolveServeOptions } from '../../src/server/serve-options.js';
import { cleanup, tempDir } from '../helpers/harness.js';

const DAY = 86_400;
const code = (expected: string) => (error: unknown) =>
  error instanceof FexError && error.code === expected;

describe('durations', () => {
  it('reads a whole number and a unit, or seconds, and writes the largest whole unit', () => {
    const cases: Array<[string, number]> = [
      ['90s', 90],
      ['90', 90],
      ['30m', 1800],
      ['12h', 43_200],
      ['7d', 7 * DAY],
      ['2W', 14 * DAY],
      [' 1d ', DAY],
    ];
    for (const [text, seconds] of cases) assert.equal(parseDuration(text), seconds, text);
    for (const bad of ['', '0', '0d', '1.5d', '-1d', '7 days', 'd', '101y', `${100 * 366}d`, '1e3'])
      assert.equal(parseDuration(bad), undefined, bad);
    assert.deepEqual([604_800, 86_400, 5400, 90, 3601].map(formatDuration), [
      '1w',
      '1d',
      '90m',
      '90s',
      '3601s',
    ]);
  });

  it('takes "never" for --expires, and refuses what is not a duration with BAD_DURATION', () => {
    assert.equal(expirySeconds('never'), 0);
    assert.equal(expirySeconds('7d'), 7 * DAY);
    assert.throws(() => expirySeconds('soon'), code('BAD_DURATION'));
    assert.throws(() => expirySeconds('0'), code('BAD_DURATION'));
  });
});

describe("a store's age", () => {
  it('is its own, else the default, else the maximum, else none', () => {
    assert.equal(storeAgeMs({ maxAge: 0, defaultAge: 0 }, undefined), undefined);
    assert.equal(storeAgeMs({ maxAge: 0, defaultAge: 0 }, 0), undefined);
    assert.equal(storeAgeMs({ maxAge: 0, defaultAge: 0 }, 60), 60_000);
    assert.equal(storeAgeMs({ maxAge: 0, defaultAge: DAY }, undefined), DAY * 1000);
    assert.equal(storeAgeMs({ maxAge: 7 * DAY, defaultAge: 0 }, undefined), 7 * DAY * 1000);
    assert.equal(storeAgeMs({ maxAge: 7 * DAY, defaultAge: DAY }, undefined), DAY * 1000);
    assert.equal(storeAgeMs({ maxAge: 7 * DAY, defaultAge: DAY }, 7 * DAY), 7 * DAY * 1000);
  });

  it('refuses past the maximum, and "never" where there is one, with E_BAD_EXPIRY', () => {
    const limits = { maxAge: 7 * DAY, defaultAge: 0 };
    assert.throws(
      () => storeAgeMs(limits, 7 * DAY + 1),
      (error: unknown) => code('E_BAD_EXPIRY')(error) && /at most 1w\./.test(String(error)),
    );
    assert.throws(() => storeAgeMs(limits, 0), code('E_BAD_EXPIRY'));
    assert.throws(() => storeAgeMs({ maxAge: 0, defaultAge: 0 }, 2 ** 40), code('E_BAD_EXPIRY'));
  });
});

describe('fex serve ages', () => {
  after(cleanup);

  it('come from the flags, else the config file, in seconds or as text', async () => {
    const dir = await tempDir('fex-ages-');
    const config = join(dir, 'fex.json');
    await writeFile(config, JSON.stringify({ limits: { maxAge: '30d', defaultAge: 3600 } }));
    const fromFile = await resolveServeOptions({ config }, dir);
    assert.deepEqual([fromFile.limits.maxAge, fromFile.limits.defaultAge], [30 * DAY, 3600]);
    const fromFlags = await resolveServeOptions(
      { config, 'max-age': '2w', 'default-age': '1d' },
      dir,
    );
    assert.deepEqual([fromFlags.limits.maxAge, fromFlags.limits.defaultAge], [14 * DAY, DAY]);
    for (const never of ['never', '0']) {
      const none = await resolveServeOptions({ 'max-age': never }, dir);
      assert.deepEqual([none.limits.maxAge, none.limits.defaultAge], [0, 0], never);
    }
  });

  it('refuse an age that does not parse, and a default past the maximum', async () => {
    const dir = await tempDir('fex-ages-');
    await assert.rejects(
      resolveServeOptions({ 'max-age': 'a week' }, dir),
      (error: unknown) => code('BAD_PARAMS')(error) && /--max-age: "a week"/.test(hintOf(error)),
    );
    await assert.rejects(
      resolveServeOptions({ 'max-age': '1d', 'default-age': '2d' }, dir),
      (error: unknown) =>
        code('BAD_PARAMS')(error) && /default age .* longer than the maximum/.test(hintOf(error)),
    );
    const config = join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ limits: { maxAge: -5 } }));
    await assert.rejects(resolveServeOptions({ config }, dir), code('BAD_PARAMS'));
  });
});

function hintOf(error: unknown): string {
  return (error as { hint?: string }).hint ?? '';
}
