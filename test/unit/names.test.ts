/** File name and handle rules, shared by server and client. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  handleKey,
  handleProblem,
  MAX_NAME_BYTES,
  nameKey,
  nameProblem,
  terminalSafeJson,
  unprintable,
} from '../../src/protocol/names.js';
import { printable } from '../../src/client/messages.js';

function assertRefused(names: string[]): void {
  for (const name of names)
    assert.equal(typeof nameProblem(name), 'string', `${JSON.stringify(name)} must be refused`);
}

describe('nameProblem', () => {
  it('accepts ordinary names', () => {
    const names = [
      'Hello.txt',
      'a',
      'my file.txt',
      'report (final) v2.pdf',
      '.bashrc',
      'café.txt',
      '日本語のファイル.txt',
      '😀.png',
      'x'.repeat(MAX_NAME_BYTES),
      'é'.repeat(127) + 'x',
    ];
    for (const name of names)
      assert.equal(nameProblem(name), undefined, `${JSON.stringify(name)} must be accepted`);
  });

  it('refuses empty, "." and ".."', () => {
    assertRefused(['', '.', '..']);
  });

  it('refuses path separators, absolute or drive paths, and ":"', () => {
    assertRefused([
      'a/b',
      'a\\b',
      '../x',
      '..\\x',
      '/etc/passwd',
      'C:\\x',
      'C:foo',
      '\\\\host\\share',
    ]);
    // ":" makes drive-relative paths and alternate data streams on Windows.
    assertRefused(['x:y', 'file.txt:stream', 'C:']);
  });

  it('refuses NUL, CR, LF, ESC, DEL and C1 controls', () => {
    assertRefused([
      'a\u0000b',
      'a\nb',
      'a\rb',
      'a\tb',
      '\u001b[31mred',
      'a\u007fb',
      'a\u0085b',
      'a\u009bb',
    ]);
  });

  it('refuses direction overrides, zero-width characters and the BOM', () => {
    assertRefused(['exe.\u202etxt', 'a\u200bb', 'a\u200db', 'a\u2066b', '\ufeffa.txt']);
  });

  /** Issue 15, item 8: each of these passed the rules and made a name display as another. */
  const INVISIBLE = [
    0x2060,
    0x00ad,
    0x180e,
    0x034f,
    0xfe0f,
    0x3164,
    0xfff9,
    0x2028,
    0x2029,
    0x061c,
    0x200d,
    0xffa0,
    ...Array.from({ length: 0x80 }, (_, i) => 0xe0000 + i),
  ];

  it('refuses every default-ignorable, format and line-separator character, anywhere', () => {
    for (const code of INVISIBLE) {
      const c = String.fromCodePoint(code);
      for (const name of [`report${c}.pdf`, `${c}report.pdf`, `report.pdf${c}x`])
        assert.match(
          nameProblem(name) ?? '',
          /invisible/,
          `U+${code.toString(16).toUpperCase()} in ${JSON.stringify(name)} must be refused`,
        );
    }
  });

  it('still accepts visible non-ASCII names', () => {
    for (const name of ['naïve.txt', 'Ωmega.bin', 'ß.txt', '한국어.txt', '١٢٣.txt', '🎉.png'])
      assert.equal(nameProblem(name), undefined, name);
  });

  it('refuses a leading "-" and a trailing dot or space', () => {
    assertRefused(['-rf', '--help', 'name.', 'name ', 'name..', ' ']);
  });

  it('refuses the reserved ".fex" in any case', () => {
    assertRefused(['.fex', '.FEX', '.Fex']);
  });

  it('refuses Windows device names, with or without extension', () => {
    assertRefused(['CON', 'con', 'nul.txt', 'NUL.tar.gz', 'COM1', 'lpt9.log', 'AUX', 'prn']);
    assert.equal(nameProblem('console.txt'), undefined);
    assert.equal(nameProblem('COM10'), undefined);
  });

  it('refuses names over 255 bytes of UTF-8, counting bytes not characters', () => {
    assertRefused(['x'.repeat(MAX_NAME_BYTES + 1), 'é'.repeat(128), '😀'.repeat(64)]);
    // 128 characters, 256 bytes.
    assert.equal(Buffer.byteLength('é'.repeat(128)), 256);
  });

  it('refuses names not in NFC and lone surrogates', () => {
    assertRefused(['cafe\u0301.txt', '\ud800.txt', 'a\udc00b', 'end\ud83d']);
  });
});

const INVISIBLE_SAMPLE = [0x2060, 0x00ad, 0x180e, 0x034f, 0xfe0f, 0x3164, 0xfff9, 0xe0041, 0x061c];

describe('nameKey', () => {
  it('maps names differing only in case or Unicode form to one key', () => {
    assert.equal(nameKey('Hello.TXT'), nameKey('hello.txt'));
    assert.equal(nameKey('café.txt'), nameKey('cafe\u0301.txt'));
    assert.equal(nameKey('\ufb01le.txt'), nameKey('file.txt'));
    assert.notEqual(nameKey('a.txt'), nameKey('b.txt'));
  });

  it('folds invisible characters, so a name padded with them clashes with the plain one', () => {
    for (const code of INVISIBLE_SAMPLE)
      assert.equal(nameKey(`Report${String.fromCodePoint(code)}.pdf`), nameKey('report.pdf'));
  });
});

describe('handleProblem', () => {
  it('accepts letters, digits, "_", "-" and "." up to 32 characters', () => {
    for (const handle of ['User1', 'a_b-c.d', '0day', 'x', 'A'.repeat(32)])
      assert.equal(handleProblem(handle), undefined, handle);
  });

  it('refuses empty, too long, bad first character, spaces, slashes and non-ASCII', () => {
    const refused = [
      '',
      'A'.repeat(33),
      '-user',
      '.user',
      '_user',
      'a b',
      ' user',
      'a/b',
      'a\\b',
      'Jos\u00e9',
      'User1\n',
      'User1\u0000',
    ];
    for (const handle of refused)
      assert.equal(
        typeof handleProblem(handle),
        'string',
        `${JSON.stringify(handle)} must be refused`,
      );
  });

  it('handleKey ignores case', () => {
    assert.equal(handleKey('User1'), handleKey('uSER1'));
    assert.notEqual(handleKey('User1'), handleKey('User2'));
  });
});

/**
 * The Unicode-property expressions are built only for text with a character outside ASCII, and
 * ASCII text skips them (and the NFC check): right only while no ASCII character is in their
 * class. A property added to the class that holds one fails here.
 */
describe('the ASCII fast path', () => {
  const ascii = Array.from({ length: 0x80 }, (_, code) => String.fromCharCode(code));
  const isControl = (c: string) => c < ' ' || c === '\u007f';

  it('finds no ASCII character in the Unicode-property class but the controls', () => {
    const one = new RegExp(unprintable().source, 'u');
    for (const c of ascii) assert.equal(one.test(c), isControl(c), `U+${c.charCodeAt(0)}`);
  });

  it('makes the same printable text with and without non-ASCII around it', () => {
    for (const c of ascii) {
      const expected = isControl(c) ? '?' : c;
      assert.equal(printable(`a${c}b`), `a${expected}b`);
      assert.equal(printable(`é${c}\u200b`), `é${expected}?`);
    }
  });

  it('refuses an invisible character in a name that is ASCII but for it', () => {
    assert.match(nameProblem('report\u200b.pdf') ?? '', /invisible/);
    assert.equal(nameProblem('report.pdf'), undefined);
  });
});

describe('terminalSafeJson', () => {
  const risky = [
    'plain',
    'café.txt',
    'del\u007f',
    'csi\u009b31m',
    'rlo\u202etxt.exe',
    'zero\u200bwidth',
    'tag\u{e0041}',
    'esc\u001b[2J',
    'quote"back\\slash',
  ];

  it('leaves no character a terminal would act on or hide, and the same value to a JSON reader', () => {
    const one = new RegExp(unprintable().source, 'u');
    for (const text of risky) {
      const json = terminalSafeJson(JSON.stringify({ name: text }));
      assert.equal(one.test(json), false, json);
      assert.deepEqual(JSON.parse(json), { name: text });
    }
  });

  it('writes what JSON leaves raw as escapes, two for a character past U+FFFF', () => {
    assert.equal(terminalSafeJson(JSON.stringify('a\u202eb')), '"a\\u202eb"');
    assert.equal(terminalSafeJson(JSON.stringify('\u009b')), '"\\u009b"');
    assert.equal(terminalSafeJson(JSON.stringify('\u{e0041}')), '"\\udb40\\udc41"');
    assert.equal(terminalSafeJson(JSON.stringify('café')), '"café"');
  });
});
