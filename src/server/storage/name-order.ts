/**
 * The stored names in code point order, kept sorted as files come and go, and how many files each
 * owner has: a listing page is a binary search and a slice, not a sort of every name, and the
 * file limits are a lookup.
 */
import { byCodePoint } from '../../shared/code-point-order.js';

export interface NameRange {
  /** Only names after this one: the last name of the page before. */
  after?: string;
  /** Only names that start with this. */
  prefix?: string;
  /** At most this many names. */
  limit?: number;
}

export class NameOrder {
  private readonly names: string[] = [];
  private readonly owned = new Map<string | null, number>();

  get size(): number {
    return this.names.length;
  }

  /** Files `owner` has (null: the operator's). */
  countOf(owner: string | null): number {
    return this.owned.get(owner) ?? 0;
  }

  /** A name stored, or stored again (then `previousOwner` is whose it was). */
  add(name: string, owner: string | null, previousOwner?: string | null): void {
    if (previousOwner !== undefined) {
      this.count(previousOwner, -1);
    } else {
      const at = this.firstAtOrAfter(name);
      if (this.names[at] !== name) this.names.splice(at, 0, name);
    }
    this.count(owner, 1);
  }

  remove(name: string, owner: string | null): void {
    const at = this.firstAtOrAfter(name);
    if (this.names[at] !== name) return;
    this.names.splice(at, 1);
    this.count(owner, -1);
  }

  /** The names in `range`, in order. */
  slice(range: NameRange = {}): string[] {
    const { limit = Infinity } = range;
    const out: string[] = [];
    if (limit <= 0) return out;
    for (const name of this.from(range)) if (out.push(name) >= limit) break;
    return out;
  }

  /**
   * The names in `range` (its `limit` aside), in order, one at a time: a caller that skips some
   * (expired files) reads on to fill its page without a second search.
   */
  *from(range: Omit<NameRange, 'limit'> = {}): Generator<string> {
    const { after, prefix = '' } = range;
    let at = this.firstAtOrAfter(prefix);
    if (after !== undefined && byCodePoint(after, prefix) >= 0) {
      at = this.firstAtOrAfter(after);
      if (this.names[at] === after) at++;
    }
    for (; at < this.names.length; at++) {
      const name = this.names[at] as string;
      if (!name.startsWith(prefix)) return;
      yield name;
    }
  }

  private count(owner: string | null, delta: number): void {
    const n = (this.owned.get(owner) ?? 0) + delta;
    if (n > 0) this.owned.set(owner, n);
    else this.owned.delete(owner);
  }

  /** The index of the first name not before `name`. */
  private firstAtOrAfter(name: string): number {
    let low = 0;
    let high = this.names.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (byCodePoint(this.names[mid] as string, name) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
