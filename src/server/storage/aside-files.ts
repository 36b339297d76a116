/**
 * Where the local backend writes an upload before it is verified and renamed into place:
 *
 *   .fex/partial/  resumable uploads, named by a hash of (owner, name, size); one cut off stays
 *                  until the same upload resumes it or it is older than `partialTtlMs`
 *   .fex/tmp/      uploads nobody can resume, removed at the next open()
 *
 * It knows which aside files an upload is writing now (two writers must not share one), sweeps
 * the partial uploads nobody resumed, and frees the oldest one when the disk is full.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RESERVED_DIR } from '../../protocol/names.js';

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class AsideFiles {
  readonly tmpDir: string;
  readonly partialDir: string;
  /** Aside files an upload is writing now; a second upload of the same file must not share one. */
  private readonly active = new Set<string>();
  private readonly tmpPrefix = randomBytes(6).toString('hex');
  private tmpCount = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    root: string,
    private readonly partialTtlMs: number,
  ) {
    this.tmpDir = join(root, RESERVED_DIR, 'tmp');
    this.partialDir = join(root, RESERVED_DIR, 'partial');
  }

  /** Creates the folders, empties `.fex/tmp`, and sweeps `.fex/partial` now and from now on. */
  async open(): Promise<void> {
    for (const dir of [this.tmpDir, this.partialDir]) await mkdir(dir, { recursive: true });
    // Unresumable uploads from before a crash or kill can never complete: their clients are gone.
    for (const stale of await readdir(this.tmpDir))
      await rm(join(this.tmpDir, stale), { force: true });
    await this.sweepPartials();
    this.sweeper = setInterval(
      () => void this.sweepPartials(),
      Math.min(this.partialTtlMs, 3_600_000),
    );
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /**
   * The aside file of an upload of `name` at `size` by `owner`, taken for writing: the one it
   * resumes from, or a one-off file in `.fex/tmp` when another upload is writing that one.
   */
  claim(owner: string, name: string, size: number): { path: string; resumable: boolean } {
    const resumable = join(this.partialDir, `${sha256Hex(`${owner}\0${name}\0${size}`)}.part`);
    const path = this.active.has(resumable) ? this.tmpPath() : resumable;
    this.active.add(path);
    return { path, resumable: path === resumable };
  }

  release(path: string): void {
    this.active.delete(path);
  }

  /**
   * A fresh name in `.fex/tmp`: this process's random prefix and a counter. Files there are
   * opened with O_EXCL and swept at open(), so a name only has to be unique, not unguessable,
   * and a counter costs nothing where random bytes cost ~30 µs a store.
   */
  tmpPath(): string {
    return join(this.tmpDir, `${this.tmpPrefix}-${(this.tmpCount++).toString(36)}.part`);
  }

  /**
   * Used by the pending puts when the disk is full: deletes the interrupted upload
   * written to longest ago that no upload is using, before anyone is refused for lack of space.
   * Resolves false when there is none left.
   */
  async reclaim(): Promise<boolean> {
    let oldest: { path: string; mtimeMs: number } | undefined;
    for (const file of await readdir(this.partialDir).catch(() => [])) {
      const path = join(this.partialDir, file);
      if (this.active.has(path)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info && (!oldest || info.mtimeMs < oldest.mtimeMs))
        oldest = { path, mtimeMs: info.mtimeMs };
    }
    // Checked again: an upload may have taken it up while the folder was read.
    if (!oldest || this.active.has(oldest.path)) return false;
    await rm(oldest.path, { force: true });
    return true;
  }

  /** Removes interrupted uploads nobody resumed in time. */
  private async sweepPartials(): Promise<void> {
    const cutoff = Date.now() - this.partialTtlMs;
    for (const file of await readdir(this.partialDir).catch(() => [])) {
      const path = join(this.partialDir, file);
      if (this.active.has(path)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }
}
