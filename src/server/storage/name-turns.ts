/**
 * The local backend's turns per name: commits, removals, renames and checkpoints of one name (or
 * of names that clash, by their nameKey) run one after the other, in the order they were called,
 * so an ownership check and the rename that follows it are atomic.
 */
import { nameKey } from '../../protocol/names.js';

export class NameTurns {
  /** nameKey -> the settling of the last task queued for it. */
  private readonly tails = new Map<string, Promise<unknown>>();
  /** Commits from their flush to their answer, for idle() to wait for. */
  private readonly commits = new Set<Promise<unknown>>();

  /** Runs `task` after every task of the same or a clashing name called before it. */
  run<T>(fileName: string, task: () => Promise<T>): Promise<T> {
    const name = nameKey(fileName);
    const previous = this.tails.get(name) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.tails.set(name, settled);
    void settled.then(() => {
      if (this.tails.get(name) === settled) this.tails.delete(name);
    });
    return run;
  }

  /** In turn with both names' tasks; the turns are taken in one order, so two never deadlock. */
  both<T>(a: string, b: string, task: () => Promise<T>): Promise<T> {
    if (nameKey(a) === nameKey(b)) return this.run(a, task);
    const [first, second] = nameKey(a) < nameKey(b) ? [a, b] : [b, a];
    return this.run(first, () => this.run(second, task));
  }

  /**
   * A commit, in turn like run(), so of two clashing names the first committed wins; idle() waits
   * for it.
   */
  commit<T>(name: string, task: () => Promise<T>): Promise<T> {
    const commit = this.run(name, task);
    this.commits.add(commit);
    const untrack = () => this.commits.delete(commit);
    commit.then(untrack, untrack);
    return commit;
  }

  /** Resolves once the commits and the tasks queued so far have settled, for close(). */
  async idle(): Promise<void> {
    await Promise.allSettled(this.commits);
    await Promise.allSettled(this.tails.values());
  }
}
