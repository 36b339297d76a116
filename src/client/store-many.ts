/**
 * Many stores on one session, pipelined: small files go out in their own request one after
 * another without waiting for answers (up to WINDOW unanswered), so the server can flush them
 * together; each result is still delivered in order, as if the stores had run one by one. A large
 * file is sent in steps (continue, data, commit), which needs the connection to itself: the
 * stores before it are answered first, and the ones after it wait for its answer.
 */
import { FexError, localIoError } from '../shared/errors.js';
import type { PreparedStore, Session, Transferred } from './session.js';

/** Most stores sent and not yet answered. */
const WINDOW = 64;
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
  const known: Array<StoreOutcome | undefined> = [];
  let delivered = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  // Hands on every outcome known, in order, the moment the one before it has been handed on.
  const deliver = () => {
    try {
      for (let next = known[delivered]; next !== undefined; next = known[delivered]) {
        known[delivered] = undefined;
        each(delivered++, next);
      }
    } catch (error) {
      failure ??= { error };
    }
    wake?.();
  };
  const until = async (done: () => boolean) => {
    while (!done() && !failure) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure.error;
  };
  const settle = (index: number, work: Promise<Transferred>) =>
    void work
      .then(
        (file) => ({ ok: true as const, file }),
        (error: unknown) => ({ ok: false as const, error }),
      )
      .then((outcome) => {
        known[index] = outcome;
        deliver();
      });
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
      await until(() => index - delivered < WINDOW);
      const store = await prepared[index];
      if (store === undefined || store instanceof FexError) {
        settle(index, Promise.reject(store));
      } else if (store.inline) {
        settle(index, session.storePrepared(store));
      } else {
        await until(() => delivered === index);
        settle(index, session.storePrepared(store));
        await until(() => delivered === index + 1);
      }
    }
    await until(() => delivered === paths.length);
  } finally {
    // Files read ahead but never sent (a failure above) are closed.
    for (const ready of prepared.slice(delivered))
      void ready?.then((store) =>
        store instanceof FexError ? undefined : store.file?.close().catch(() => undefined),
      );
  }
}
