/** The one table of failures: exact user-facing lines and exit statuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_TABLE, EXIT, FexError, isErrorCode } from '../../src/protocol/errors.js';

const exitStatuses = new Set<number>(Object.values(EXIT));

describe('ERROR_TABLE', () => {
  it('gives every code a non-empty message and a non-zero documented exit status', () => {
    const codes = Object.keys(ERROR_TABLE);
    assert.ok(codes.length > 20);
    for (const code of codes) {
      assert.ok(isErrorCode(code));
      const spec = ERROR_TABLE[code];
      assert.ok(spec.message.trim().length > 0, code);
      assert.ok(exitStatuses.has(spec.exit), `${code} exit ${spec.exit}`);
      assert.notEqual(spec.exit, EXIT.ok, code);
    }
  });

  it('keeps the SPEC.md error lines word for word', () => {
    const cases: [FexError, string][] = [
      [
        new FexError('CONNECT_FAILED'),
        'Error: Connection to the Server has failed! Please check IP Address and Port Number.',
      ],
      [
        new FexError('NOT_CONNECTED', { action: 'Disconnection' }),
        'Error: Disconnection failed. Please connect to the server first.',
      ],
      [
        new FexError('NOT_CONNECTED', { action: 'Registration' }),
        'Error: Registration failed. Please connect to the server first.',
      ],
      [
        new FexError('E_HANDLE_TAKEN', { handle: 'User1' }),
        'Error: Registration failed. Handle or alias already exists.',
      ],
      [new FexError('LOCAL_NOT_FOUND', { path: 'x' }), 'Error: File not found.'],
      [new FexError('E_NOT_FOUND', { name: 'x' }), 'Error: File not found in the server.'],
      [new FexError('COMMAND_NOT_FOUND'), 'Error: Command not found.'],
      [new FexError('BAD_PARAMS'), 'Error: Command parameters do not match or is not allowed.'],
    ];
    for (const [error, line] of cases) assert.equal(error.line, line);
  });

  it('gives usage errors exit status 2 and distinct statuses to other kinds', () => {
    assert.equal(new FexError('BAD_PARAMS').exit, 2);
    assert.equal(new FexError('COMMAND_NOT_FOUND').exit, 2);
    assert.equal(new FexError('CONNECT_FAILED').exit, EXIT.connection);
    assert.equal(new FexError('E_NOT_FOUND').exit, EXIT.notFound);
    assert.equal(new FexError('LOCAL_NOT_FOUND').exit, EXIT.notFound);
    assert.equal(new FexError('E_CHECKSUM').exit, EXIT.integrity);
    assert.notEqual(EXIT.connection, EXIT.notFound);
  });
});

describe('FexError', () => {
  it('fills placeholders from its details and leaves missing ones empty', () => {
    const error = new FexError('E_NOT_OWNER', { name: 'a.txt', owner: 'Bob' });
    assert.equal(error.message, 'a.txt belongs to Bob; only its owner may replace it.');
    assert.equal(new FexError('CONNECTION_LOST').message, 'Connection to the server was lost.');
    assert.equal(
      new FexError('E_SIZE', { name: 'a', got: 3, expected: 5 }).message,
      'Transfer of a ended at 3 bytes, 5 were announced; nothing was kept.',
    );
  });

  it('is an Error with a code, details and a line starting with "Error: "', () => {
    const error = new FexError('E_BAD_NAME', { reason: 'the name is empty' });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'FexError');
    assert.equal(error.code, 'E_BAD_NAME');
    assert.deepEqual(error.details, { reason: 'the name is empty' });
    assert.ok(error.line.startsWith('Error: '));
    assert.equal(error.line, `Error: ${error.message}`);
  });

  it("keeps a plugin's message for a code outside the table", () => {
    assert.equal(isErrorCode('E_QUOTA'), false);
    const error = new FexError('E_QUOTA', {}, 'Quota exceeded for User1.');
    assert.equal(error.code, 'E_QUOTA');
    assert.equal(error.line, 'Error: Quota exceeded for User1.');
    assert.equal(error.exit, EXIT.plugin, "a server plugin's refusal has its own status");
    // From the wire without a message (no compiler checked it): the code is still named.
    assert.equal(FexError.of('E_QUOTA').message, 'Request failed (E_QUOTA).');
    // A message given for a table code overrides the template but keeps the code's exit.
    const known = new FexError('E_TOO_LARGE', {}, 'Too big for this server.');
    assert.equal(known.message, 'Too big for this server.');
    assert.equal(known.exit, EXIT.limit);
    assert.equal(known.custom, true);
    assert.equal(new FexError('E_TOO_LARGE', { size: 1, max: 0 }).custom, false);
  });

  it('recognises a FexError made by another copy of fex', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('fex.FexError')]: true });
    assert.ok(foreign instanceof FexError);
    assert.ok(!(new Error('x') instanceof FexError));
    assert.ok(new FexError('E_NOT_FOUND') instanceof FexError);
  });
});
