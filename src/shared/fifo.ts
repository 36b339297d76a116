/**
 * A first-in, first-out queue that costs one array slot per item: an array read from a moving
 * head, compacted as it is read. An array's `shift()` moves every item left behind it, and a
 * chain of promises (one per item) costs hundreds of bytes each; a server holding a few hundred
 * thousand queued events needs neither.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    // Read slots let go of their item at once: what the queue holds is what is waiting.
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
