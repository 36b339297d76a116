/** `1 file`, `2 files`: people read these words, and `(1 files)` reads as a typo. */
export function counted(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
