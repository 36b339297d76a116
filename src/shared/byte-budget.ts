/**
 * A count of bytes held against a ceiling, shared by whoever draws on it: the server's event
 * queues draw on one budget together, so the total they hold is bounded however many there are.
 */
export class ByteBudget {
  private held = 0;

  constructor(readonly max: number) {}

  /** Bytes drawn and not yet given back. */
  get used(): number {
    return this.held;
  }

  /** Draws `bytes` if they fit under the ceiling; false (and nothing drawn) if not. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.max) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
