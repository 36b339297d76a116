/**
 * The server's file events as the shell shows them: each kind in the form of the seed's upload
 * line, and nothing at all for one whose names or handle would not display as what they are.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileEventLine } from '../../src/client/file-events.js';

const TIME = new Date(2023, 10, 6, 16, 48, 5).getTime();
const event = (fields: Record<string, unknown>) => ({ type: 'event', time: TIME, ...fields });

describe('file events', () => {
  it('shows uploads, deletions, renames and expiries', () => {
    const lines = [
      event({ event: 'uploaded', handle: 'Bob', name: 'a.txt', size: 1 }),
      event({ event: 'deleted', handle: 'Bob', name: 'a.txt' }),
      event({ event: 'deleted', handle: null, operator: true, name: 'a.txt' }),
      event({ event: 'renamed', handle: 'Bob', name: 'a.txt', to: 'b.txt' }),
      event({ event: 'expired', name: 'b.txt', owner: 'Bob' }),
    ].map((e) => fileEventLine(e)?.line);
    assert.deepEqual(lines, [
      'Bob<2023-11-06 16:48:05>: Uploaded a.txt',
      'Bob<2023-11-06 16:48:05>: Deleted a.txt',
      '(operator)<2023-11-06 16:48:05>: Deleted a.txt',
      'Bob<2023-11-06 16:48:05>: Renamed a.txt to b.txt',
      '(server)<2023-11-06 16:48:05>: Expired b.txt',
    ]);
  });

  it('shows nothing for a file event whose fields are not what they must be', () => {
    const bad = [
      event({ event: 'deleted', handle: 'Bob', name: '../etc/passwd' }),
      event({ event: 'deleted', handle: null, name: 'a.txt' }), // no operator flag
      event({ event: 'deleted', handle: '(operator)', name: 'a.txt' }),
      event({ event: 'renamed', handle: 'Bob', name: 'a.txt', to: 'evil\u001b[2Jname' }),
      event({ event: 'renamed', handle: 'Bob', name: 'a.txt' }),
      event({ event: 'expired', name: 'x\u202etxt.exe' }),
      event({ event: 'expired', name: 'a.txt', time: 'soon' }),
    ];
    for (const e of bad) assert.deepEqual(fileEventLine(e), { line: undefined }, JSON.stringify(e));
  });

  it('leaves any other event to the plugins', () => {
    assert.equal(fileEventLine(event({ event: 'message', line: 'hi' })), undefined);
    assert.equal(fileEventLine(event({ event: 'toString' })), undefined);
  });
});
