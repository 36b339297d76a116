/**
 * Many stores on one session, pipelined: small files go out in their own request one after
 * another without waiting for answers (up to WINDOW unanswered), so the server can flush them
 * together; each result is still delivered in order, as if the stores had run one by one. A large
 * file is sent in steps (continue, data, commit), which needs the connection to itself: the
 * stores before it are answered first, and the ones after it wait for its answer.
 */
import { FexError, localIoError } from '../shared/errors.js';
import type { PreparedStore, Session, Transferred } from './session.js';

/**
 * Most stores sent and not yet answered: as many as the server reads ahead of its answers
 * (MAX_DETACHED in server/connection.ts), so it works on the next ones while a flush runs.
 */
const WINDOW = 256;
/** How many files ahead are read while earlier ones are being sent. */
const READ_AHEAD = 8;

export type StoreOutcome = { ok: true; file: Transferred } | { ok: false; error: unknown };

/** Stores `paths` in order; `each` hears every outcome in that order, as soon as it is known. */
export async function storeMany(
  session: Session,
  paths: readonly string[],
  each: (index: number, outcome: StoreOutcome) => void,
): Promise<void> {
  // Read ahead; a failure is kept as the value, to be reported in its turn.
  const prepared: Array<Promise<PreparedStore | FexError>> = [];
  const order = new InOrder(each);
  const prepare = (index: number) => {
    const path = paths[index];
    if (path !== undefined)
      prepared[index] ??= session
        .prepareStore(path)
        .catch((error: unknown) =>
          error instanceof FexError ? error : localIoError('read', path, error),
        );
  };
  try {
    for (let index = 0; index < paths.length; index++) {
      for (let ahead = index; ahead <= index + READ_AHEAD; ahead++) prepare(ahead);
      await order.until(() => index - order.delivered < WINDOW);
      const store = await prepared[index];
      if (store === undefined || store instanceof FexError) {
        order.settle(index, Promise.reject(store));
      } else if (store.inline) {
        order.settle(index, session.storePrepared(store));
      } else {
        await order.until(() => order.delivered === index);
        order.settle(index, session.storePrepared(store));
        await order.until(() => order.delivered === index + 1);
      }
    }
    await order.until(() => order.delivered === paths.length);
  } finally {
    // Files read ahead but never sent (a failure above) are closed.
    for (const ready of prepared.slice(order.delivered))
      void ready?.then((store) =>
        store instanceof FexError ? undefined : store.file?.close().catch(() => undefined),
      );
  }
}

/**
 * The stores' outcomes, which may be known out of order, handed to `each` in order; a failure of
 * `each` stops the run at its next wait.
 */
class InOrder {
  /** How many outcomes `each` has heard. */
  delivered = 0;
  private readonly known: Array<StoreOutcome | undefined> = [];
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly each: (index: number, outcome: StoreOutcome) => void) {}

  /** Records the outcome of store `index` once `work` settles. */
  settle(index: number, work: Promise<Transferred>): void {
    void work
      .then(
        (file) => ({ ok: true as const, file }),
        (error: unknown) => ({ ok: false as const, error }),
      )
      .then((outcome) => {
        this.known[index] = outcome;
        this.deliver();
      });
  }

  /** Waits until `done()`; throws what `each` threw meanwhile. */
  async until(done: () => boolean): Promise<void> {
    while (!done() && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure.error;
  }

  /** Hands on every outcome known, in order, the moment the one before it has been handed on. */
  private deliver(): void {
    try {
      for (
        let next = this.known[this.delivered];
        next !== undefined;
        next = this.known[this.delivered]
      ) {
        this.known[this.delivered] = undefined;
        this.each(this.delivered++, next);
      }
    } catch (error) {
      this.failure ??= { error };
    }
    this.wake?.();
  }
}
