/**
 * Name rules shared by both ends. The server refuses a bad name before it touches the disk; the
 * client refuses a bad name from the server before it writes anything (scp's CVE-2019-6111).
 * The rules are strict on purpose: a name must be a safe single path component on every
 * platform a client may run on, and must display as what it is.
 */
import { FexError } from '../shared/errors.js';

export const MAX_NAME_BYTES = 255;
export const MAX_HANDLE_LENGTH = 32;
/** The server's bookkeeping folder inside the storage root. */
export const RESERVED_DIR = '.fex';

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// C0 controls, DEL, C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Characters that display as nothing, or steer how the rest displays: every default-ignorable
 * code point (zero-width marks, variation selectors, fillers, tags) and every format character
 * (direction marks, overrides and isolates, the BOM, soft hyphen, interlinear annotations), taken
 * from the Unicode properties so that no character of either set is forgotten, plus the line and
 * paragraph separators, which break a listing's line. Two names differing only by them display
 * alike, which is the whole trick of a look-alike name.
 */
const INVISIBLE_CLASS = '[\\p{Default_Ignorable_Code_Point}\\p{Cf}\\p{Zl}\\p{Zp}]';
/**
 * None of those characters is ASCII (the unit tests check all 128), so a string with no
 * character outside ASCII needs no look at the Unicode properties, nor at Unicode normal forms.
 */
// Any UTF-16 code unit past ASCII, surrogates included.
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The expressions built from the Unicode properties, made on first use: building them makes V8
 * ask ICU for each property's set of characters, about 6 M instructions, which a one-shot `fex
 * dir` of ASCII names would pay for nothing at every start (docs/performance.md, "Start-up").
 */
let invisibleSets: { deceptive: RegExp; all: RegExp; unprintable: RegExp } | undefined;
function invisible() {
  return (invisibleSets ??= {
    deceptive: new RegExp(INVISIBLE_CLASS, 'u'),
    all: new RegExp(INVISIBLE_CLASS, 'gu'),
    unprintable: new RegExp(`${CONTROL.source}|${INVISIBLE_CLASS}`, 'gu'),
  });
}

/**
 * Every character that must not reach a terminal as it is: controls, and the deceptive ones.
 * Global: `replace` with it; for `test`, make one without the flag from its source.
 */
export function unprintable(): RegExp {
  return invisible().unprintable;
}

/** Text with nothing to replace: no control character, and no character outside ASCII. */
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;

/**
 * Text from the network made safe for a terminal or a log line: control characters (escape
 * sequences), and invisible or direction-changing characters, become "?".
 */
export function printable(text: string): string {
  return PRINTABLE_ASCII.test(text) ? text : text.replace(unprintable(), '?');
}

/**
 * JSON text made safe for a terminal without changing the value it holds. `JSON.stringify`
 * escapes U+0000–U+001F but writes DEL, the C1 controls (U+009B is a terminal's CSI) and the
 * invisible or direction-changing characters as they are; here they become `\uXXXX` escapes too,
 * one per UTF-16 unit. Takes JSON text only: in any other text a backslash would mean nothing.
 */
export function terminalSafeJson(json: string): string {
  return PRINTABLE_ASCII.test(json) ? json : json.replace(unprintable(), jsonEscapes);
}

function jsonEscapes(character: string): string {
  let out = '';
  for (let i = 0; i < character.length; i++)
    out += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** Whether `text` has an invisible or direction-changing character (see INVISIBLE_CLASS). */
function hasInvisible(text: string): boolean {
  return NON_ASCII.test(text) && invisible().deceptive.test(text);
}
// Lone surrogates cannot be encoded as UTF-8 and would change on the way to the disk.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The reason a file name is refused, or undefined when it is acceptable. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name === '.' || name === '..') return `"${name}" is not a file name`;
  if (LONE_SURROGATE.test(name)) return 'the name is not valid Unicode';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES)
    return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (name.includes('/') || name.includes('\\')) return 'the name contains a path separator';
  if (CONTROL.test(name)) return 'the name contains a control character';
  if (hasInvisible(name)) return 'the name contains an invisible or direction-changing character';
  if (name.includes(':')) return 'the name contains ":"';
  if (name.startsWith('-')) return 'the name starts with "-"';
  if (/[. ]$/.test(name)) return 'the name ends with a dot or a space';
  if (/^\s|\s$/.test(name)) return 'the name starts or ends with white space';
  if (name.toLowerCase() === RESERVED_DIR) return 'the name is reserved for the server';
  if (WINDOWS_RESERVED.test(name)) return 'the name is reserved on Windows';
  if (NON_ASCII.test(name) && name !== name.normalize('NFC'))
    return 'the name is not in Unicode normal form C';
  return undefined;
}

/** The reason a handle is refused, or undefined when it is acceptable. */
export function handleProblem(handle: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(handle)) return 'bad handle';
  return undefined;
}

/** Handles are unique without regard to case, so "bob" cannot pose as "Bob". */
export function handleKey(handle: string): string {
  return handle.toLowerCase();
}

/**
 * Names that differ only in case or Unicode form would collide on some clients' disks, and names
 * that differ only by invisible characters display alike: both clash. The invisible ones are
 * dropped after NFKC too, which maps some visible-looking fillers (U+3164) to invisible ones.
 */
export function nameKey(name: string): string {
  const { all } = invisible();
  return name.replace(all, '').normalize('NFKC').replace(all, '').toLowerCase();
}

/** Refuses a file name that breaks a rule (nameProblem) with E_BAD_NAME, saying which. */
export function refuseBadName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
}
