/**
 * Group-committed fsync of one folder, to make renames into it durable. The folder stays open, and
 * concurrent requests share one fsync: each resolves after an fsync that started after it asked.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { GroupCommit } from './group-commit.js';

export class DirSync {
  private readonly group: GroupCommit<void>;
  private closed = false;

  private constructor(private readonly handle: FileHandle) {
    this.group = new GroupCommit<void>(() => handle.sync());
  }

  static async open(dir: string): Promise<DirSync> {
    return new DirSync(await open(dir, 'r'));
  }

  /** Resolves once every rename made into the folder before the call is durable. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the folder is no longer synced'));
    return this.group.submit();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.group.idle();
    await this.handle.close();
  }
}
