/** The words of the progress line and of the usage hints, at their edges. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest } from '../../src/cli/usage-hint.js';
import { formatBytes, formatDuration } from '../../src/client/human-units.js';
import { progressLine, progressMeter } from '../../src/client/progress.js';

describe('human units', () => {
  it('writes sizes in powers of 1024 and durations as a clock', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(500_000_000), '476.8 MiB');
    assert.equal(formatBytes(16 * 1024 ** 3), '16.0 GiB');
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(65.2), '1:06');
    assert.equal(formatDuration(3 * 3600 + 7), '3:00:07');
    assert.equal(formatDuration(Infinity), '--:--');
  });
});

describe('the progress line', () => {
  it('shows percent, bar, sizes, rate and time left', () => {
    assert.equal(
      progressLine('Downloading big.bin', 200 * 1024 ** 2, 400 * 1024 ** 2, 100 * 1024 ** 2, 120),
      'Downloading big.bin 50% [##########----------] 200.0 MiB of 400.0 MiB, 100.0 MiB/s, 0:02 left',
    );
    assert.equal(
      progressLine('Uploading x', 0, 10, undefined, 120),
      'Uploading x 0% [--------------------] 0 B of 10 B, -- B/s, --:-- left',
    );
    assert.equal(progressLine('Uploading x', 0, 0, undefined, 120).split(' ')[2], '100%');
  });

  it('drops the bar, then the figures, in a narrow terminal, never wrapping', () => {
    const wide = progressLine('Downloading big.bin', 1, 2, 1, 200);
    for (const columns of [90, 60, 30, 10]) {
      const line = progressLine('Downloading big.bin', 1, 2, 1, columns);
      assert.ok(line.length < columns, `${columns}: ${line}`);
      assert.ok(wide.startsWith(line.slice(0, 19)));
    }
    assert.equal(
      progressLine('Downloading big.bin', 1, 2, 1, 60),
      'Downloading big.bin 50% 1 B of 2 B, 1 B/s, 0:01 left',
    );
  });
});

describe('the progress meter', () => {
  it('draws on a terminal, clears when done, and never draws again after', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 120, write: (text: string) => written.push(text) };
    const meter = progressMeter('Uploading x', tty as unknown as NodeJS.WriteStream);
    meter.update?.(1, 10);
    assert.match(written[0]!, /^\rUploading x 10% \[/);
    meter.done();
    assert.equal(written.at(-1), '\r\u001b[K');
    const count = written.length;
    meter.update?.(5, 10);
    meter.update?.(10, 10);
    assert.equal(written.length, count, 'a late report of bytes drew the line again');
  });

  it('draws nothing where stderr is not a terminal', () => {
    const meter = progressMeter('Uploading x', { isTTY: false } as NodeJS.WriteStream);
    assert.equal(meter.update, undefined);
  });
});

describe('closest', () => {
  it('suggests a name a slip away, and nothing for a word far from all', () => {
    assert.equal(closest('--lng', ['--long', '--server']), '--long');
    assert.equal(closest('--sever', ['--server', '--handle']), '--server');
    assert.equal(closest('stroe', ['store', 'dir']), 'store');
    assert.equal(closest('--disc', ['--discard-partial', '--output']), '--discard-partial');
    assert.equal(closest('ab', ['dir', 'get']), undefined);
    assert.equal(closest('bogus', ['store', 'dir', 'get', 'join']), undefined);
  });
});
