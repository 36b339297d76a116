/** The one table of failures: exact user-facing lines and exit statuses. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_WHEN } from '../../src/shared/error-docs.js';
import {
  ERROR_TABLE,
  EXIT,
  FexError,
  isErrorCode,
  type ErrorCode,
} from '../../src/shared/errors.js';
import { ROOT } from '../helpers/harness.js';

const codes = Object.keys(ERROR_TABLE) as ErrorCode[];
const placeholders = (template: string) => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

/** The rows of a markdown table between `<!-- BEGIN name -->` and `<!-- END name -->`. */
function documented(markdown: string, name: string): string[][] {
  const from = markdown.indexOf(`<!-- BEGIN ${name} -->`);
  const to = markdown.indexOf(`<!-- END ${name} -->`);
  assert.ok(from >= 0 && to > from, `no ${name} in the doc`);
  return (
    markdown
      .slice(from, to)
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| -'))
      .slice(1)
      // A `|` inside a cell is escaped as `\|` in the markdown (E_NOT_OWNER's {verb|replace}).
      .map((line) =>
        line
          .slice(2, -2)
          .split(' | ')
          .map((cell) => cell.trim().replace(/^`|`$/g, '').replaceAll('\\|', '|')),
      )
  );
}

describe('ERROR_TABLE', () => {
  it('gives every code a one-line message and a failure exit status of EXIT', () => {
    const statuses = new Set<number>(Object.values(EXIT));
    for (const code of codes) {
      const { message, exit } = ERROR_TABLE[code];
      assert.ok(isErrorCode(code));
      assert.match(message, /^[A-Z{][^\n]*[^\s]$/, `${code}: one line, capitalised, trimmed`);
      assert.doesNotMatch(message, /^Error:/, `${code}: the line adds "Error: " itself`);
      assert.match(message, /[.!]$|\{\w+\}$/, `${code}: a sentence, or ends with its reason`);
      assert.ok(statuses.has(exit) && exit !== EXIT.ok, `${code} exit ${exit}`);
      assert.equal(new FexError(code).exit, exit, code);
    }
  });

  it('names wire codes E_ and client codes otherwise, all in capitals', () => {
    for (const code of codes) assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    const wire = codes.filter((code) => code.startsWith('E_'));
    assert.ok(wire.includes('E_NOT_FOUND') && wire.includes('E_INTERNAL'));
    assert.ok(!wire.includes('CONNECT_FAILED' as ErrorCode));
  });

  it('has exit statuses 0 to 10, one per kind, each kind used by a code but the plugin one', () => {
    const statuses = Object.values(EXIT);
    assert.deepEqual(
      [...statuses].sort((a, b) => a - b),
      Array.from({ length: 11 }, (_, i) => i),
    );
    for (const [kind, status] of Object.entries(EXIT)) {
      const used = codes.some((code) => ERROR_TABLE[code].exit === status);
      // 0 is success, and 10 is for codes no table knows: a server plugin's own.
      assert.equal(used, kind !== 'ok' && kind !== 'plugin', kind);
    }
    assert.equal(EXIT.usage, 2, 'SPEC.md: usage errors exit 2');
  });

  it('fills every placeholder of every message from its details', () => {
    for (const code of codes) {
      const names = placeholders(ERROR_TABLE[code].message);
      const details = Object.fromEntries(names.map((name) => [name, `<${name}>`]));
      const error = new FexError(code, details);
      assert.doesNotMatch(error.message, /[{}]/, code);
      for (const name of names) assert.ok(error.message.includes(`<${name}>`), `${code} {${name}}`);
      assert.equal(error.line, `Error: ${error.message}`);
    }
  });

  it('matches the exit statuses and codes documented in docs/cli.md and docs/protocol.md', async () => {
    const cli = await readFile(join(ROOT, 'docs', 'cli.md'), 'utf8');
    const rows = documented(cli, 'ERROR TABLE');
    assert.deepEqual(
      rows.map(([code]) => code),
      codes,
    );
    for (const [code, message, exit] of rows) {
      const spec = ERROR_TABLE[code as ErrorCode];
      assert.equal(message, spec.message, code);
      assert.equal(
        exit,
        `${spec.exit} (${Object.keys(EXIT).find((k) => EXIT[k as keyof typeof EXIT] === spec.exit)})`,
        code,
      );
    }
    const exits = documented(cli, 'EXIT TABLE');
    assert.deepEqual(
      exits.map(([status, name]) => [Number(status), name]),
      Object.entries(EXIT).map(([name, status]) => [status, name]),
    );
    const protocol = await readFile(join(ROOT, 'docs', 'protocol.md'), 'utf8');
    assert.deepEqual(
      documented(protocol, 'WIRE ERROR TABLE').map(([code]) => code),
      codes.filter((code) => code.startsWith('E_')),
    );
  });

  it('says for every code when it arises', () => {
    for (const code of codes) assert.ok(ERROR_WHEN[code]?.trim(), code);
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
