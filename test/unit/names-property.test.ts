/**
 * Property tests of the name rules: whatever string nameProblem accepts is one safe path component
 * on the server's disk and on every client's, and can never lead outside the storage root.
 * The seed is fixed so a run is reproducible; FC_SEED=<n> explores another part of the space.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_NAME_BYTES, nameProblem, RESERVED_DIR } from '../../src/protocol/names.js';

const seed = Number(process.env.FC_SEED ?? 20231106);
const ROOT = path.join(path.sep, 'srv', 'fex', 'files');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Pieces that attackers and accidents put into names, to be glued together at random. */
const naughtyPieces = [
  '.',
  '..',
  '/',
  '\\',
  '\0',
  '\n',
  '\r',
  '\t',
  '\x1b[31m',
  '\x7f',
  '\x85',
  '\u00a0',
  '\u2028',
  '\u202e',
  '\u200b',
  '\ufeff',
  ':',
  '-',
  ' ',
  '~',
  '%2e%2e%2f',
  '%252e',
  '..%c0%af',
  'C:',
  'C:\\',
  '\\\\host\\share',
  'CON',
  'nul.txt',
  '.fex',
  '.FEX',
  'e\u0301',
  '\u00e9',
  '\ufb01',
  'K',
  '\u212a',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  'a',
  'file.txt',
  '名前',
  'x'.repeat(60),
  '\u00e9'.repeat(40),
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Strings of every kind, biased towards the interesting ones. */
const names = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...naughtyPieces), maxLength: 8 }),
  fc.string({
    unit: fc.oneof(fc.constantFrom(...naughtyPieces), fc.string({ unit: 'binary' }), loneSurrogate),
    maxLength: 12,
  }),
  fc.string({ unit: 'grapheme', minLength: 60, maxLength: 300 }),
);

/** Every reason a name would not be one safe component; empty when it is one. */
function unsafety(name: string): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => ok || problems.push(what);
  check(name.length > 0, 'empty');
  check(name !== '.' && name !== '..', '. or ..');
  check(!name.includes('/'), 'contains /');
  check(!name.includes('\\'), 'contains \\');
  check(!name.includes('\0'), 'contains NUL');
  check(!CONTROL.test(name), 'contains a control character');
  check(Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES, `over ${MAX_NAME_BYTES} bytes`);
  check(Buffer.from(name, 'utf8').toString('utf8') === name, 'does not survive UTF-8');
  check(name === name.normalize('NFC'), 'not NFC');
  check(path.basename(name) === name, 'path.basename changes it');
  check(path.posix.basename(name) === name, 'path.posix.basename changes it');
  check(path.win32.basename(name) === name, 'path.win32.basename changes it');
  check(name.toLowerCase() !== RESERVED_DIR, 'is the reserved folder');
  const joined = path.join(ROOT, name);
  check(path.dirname(joined) === ROOT, 'path.join leaves the root');
  check(path.relative(ROOT, joined) === name, 'path.relative differs');
  check(path.resolve(ROOT, name) === joined, 'path.resolve differs from path.join');
  check(path.normalize(joined) === joined, 'path.join result is not normal');
  return problems;
}

describe('nameProblem, for arbitrary strings', () => {
  it('accepts only names that are one safe path component inside the root', () => {
    fc.assert(
      fc.property(names, (name) => {
        if (nameProblem(name) !== undefined) return;
        assert.deepEqual(unsafety(name), [], `nameProblem accepted ${JSON.stringify(name)}`);
      }),
      { seed, numRuns: 30_000 },
    );
  });

  it('refuses every string with a separator, NUL or control character, whatever surrounds it', () => {
    const bad = fc.constantFrom('/', '\\', '\0', '\n', '\r', '\x1b', '\x7f', '\x9b');
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }),
        bad,
        fc.string({ unit: 'binary', maxLength: 20 }),
        (before, piece, after) => {
          const name = before + piece + after;
          assert.notEqual(nameProblem(name), undefined, `accepted ${JSON.stringify(name)}`);
        },
      ),
      { seed, numRuns: 5_000 },
    );
  });

  it('refuses every name longer than 255 bytes of UTF-8, counted in bytes not characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 400 }), (name) => {
        if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES)
          assert.notEqual(nameProblem(name), undefined);
      }),
      { seed, numRuns: 3_000 },
    );
  });

  it('always answers with a string or undefined, never throws', () => {
    fc.assert(
      fc.property(fc.oneof(names, fc.string({ unit: loneSurrogate })), (name) => {
        const problem = nameProblem(name);
        assert.ok(problem === undefined || (typeof problem === 'string' && problem.length > 0));
      }),
      { seed, numRuns: 5_000 },
    );
  });
});
