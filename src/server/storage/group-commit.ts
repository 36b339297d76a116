/**
 * Group commit: callers that each need "a flush that covers me" share one flush. An item submitted
 * while a flush runs waits for the next one, which starts when that one ends and takes everything
 * queued meanwhile, so N concurrent callers cost about two flushes instead of N, and every caller
 * still resolves only after a flush that started after its submit.
 */
export class GroupCommit<T> {
  private queued: T[] = [];
  /** The flush that will take the queued items; undefined once it has taken them. */
  private next: Promise<void> | undefined;
  /** Settles when the last scheduled flush has ended, whatever its outcome. */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  /** Resolves after a flush covering `item` succeeded; rejects with that flush's failure. */
  submit(item: T): Promise<void> {
    this.queued.push(item);
    if (this.next) return this.next;
    // The flush starts once the work already queued on the event loop has run (setImmediate):
    // pipelined stores that arrived in the same socket read then share it, at no extra wait.
    const next = this.tail.then(afterQueuedWork).then(() => {
      const items = this.queued;
      this.queued = [];
      this.next = undefined;
      return this.flush(items);
    });
    this.next = next;
    // Each submitter handles the outcome; the chain only needs to know the flush ended.
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Settles once every flush scheduled so far has ended. */
  idle(): Promise<void> {
    return this.tail;
  }
}

const afterQueuedWork = () => new Promise<void>((resolve) => setImmediate(resolve));
