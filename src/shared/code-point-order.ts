/** The order of names in listings, on both ends. */

/**
 * Code point order (which is UTF-8 byte order) without encoding anything: UTF-16 code units
 * compare in code point order except that surrogates (code points above U+FFFF) must sort after
 * U+E000..U+FFFF, so both ranges are shifted before comparing.
 */
export function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return shifted(x) - shifted(y);
  }
  return a.length - b.length;
}

function shifted(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
