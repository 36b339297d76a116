/**
 * The in-process file index of one object-storage server without shared state: held in memory,
 * made durable in the server's folder as a log of JSON lines (`.fex/file-index`), each change
 * flushed (group-committed with the changes beside it) before it is acknowledged, so a restart
 * loses nothing acknowledged. The log is rewritten whole (aside, flushed, renamed) at open() and
 * when it holds four times the live records plus 1000 lines. A torn last line, from a crash in
 * the middle of an append, never parses and was never acknowledged.
 *
 * A line: { f?: record to set, d?: names to drop, p?: partial upload to set, x?: partial id to
 * drop }, applied in that order (d before f, so a rename is one line: d: [from], f: its record).
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RESERVED_DIR } from '../../protocol/names.js';
import { writeDurably } from '../durable-file.js';
import {
  ORPHAN_MARK_MS,
  type Displaced,
  type FileIndex,
  type IndexedFile,
  type PartialUpload,
  type Renamed,
} from './file-index.js';
import { ioError } from './fs-helpers.js';
import { GroupCommit } from './group-commit.js';
import { IndexState } from './index-rules.js';
import { isExpired, orphanedObject } from './meta-record.js';
import type { ListOptions } from './storage.js';

interface Line {
  f?: IndexedFile;
  d?: string[];
  p?: PartialUpload;
  x?: string;
}

export class LocalFileIndex implements FileIndex {
  private readonly state = new IndexState();
  private readonly partials = new Map<string, PartialUpload>();
  /**
   * Objects handed out as orphans, and when: a commit naming one is refused. In memory only: a
   * restart ends every upload of this process, so none can commit such an object afterwards.
   */
  private readonly orphans = new Map<string, number>();
  private readonly path: string;
  private handle: FileHandle | undefined;
  private lines = 0;
  private readonly log = new GroupCommit<string>((lines) => this.flush(lines));

  /** `dir`: the server's folder; the log lives in its `.fex` folder. */
  constructor(dir: string) {
    this.path = join(dir, RESERVED_DIR, 'file-index');
  }

  async open(): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(error);
    }
    for (const raw of text.split('\n')) {
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      this.apply(line);
    }
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeDurably(this.path, this.snapshot(), 0o600);
      this.handle = await open(this.path, 'a');
    } catch (error) {
      throw ioError(error);
    }
  }

  async close(): Promise<void> {
    await this.log.idle();
    await this.handle?.close();
    this.handle = undefined;
  }

  async get(name: string): Promise<IndexedFile | undefined> {
    return this.state.files.get(name);
  }

  async page(options: ListOptions): Promise<IndexedFile[]> {
    return this.state.order.slice(options).map((name) => this.state.files.get(name)!);
  }

  async count(owner?: string | null): Promise<number> {
    const { order } = this.state;
    return owner === undefined ? order.size : order.countOf(owner);
  }

  async check(name: string, owner: string, now: number): Promise<void> {
    this.state.check(name, owner, now);
  }

  async commit(file: IndexedFile, now: number, partial?: string): Promise<Displaced> {
    if (this.orphans.has(file.object)) throw orphanedObject(file.name);
    const displaced = this.state.commit(file, now);
    if (partial !== undefined) this.partials.delete(partial);
    await this.write({ f: file, ...(partial === undefined ? {} : { x: partial }) });
    return displaced;
  }

  async remove(name: string, owner: string | undefined, now: number): Promise<IndexedFile> {
    const file = this.state.remove(name, owner, now);
    await this.write({ d: [name] });
    return file;
  }

  async rename(from: string, to: string, owner: string, now: number): Promise<Renamed> {
    const result = this.state.rename(from, to, owner, now);
    await this.write({ d: [from], f: result.file });
    return result;
  }

  async expireOne(name: string, now: number): Promise<IndexedFile | undefined> {
    const file = this.state.expireOne(name, now);
    if (file) await this.write({ d: [name] });
    return file;
  }

  async due(now: number, limit: number): Promise<{ names: string[]; next: number | undefined }> {
    const names: string[] = [];
    let next: number | undefined;
    for (const file of this.state.files.values()) {
      if (isExpired(file, now)) {
        if (names.length < limit) names.push(file.name);
      } else if (file.expires !== undefined && (next === undefined || file.expires < next))
        next = file.expires;
    }
    return { names, next };
  }

  async takePartial(id: string, now: number): Promise<PartialUpload | undefined> {
    const held = this.partials.get(id);
    if (!held) return undefined;
    const taken = { ...held, generation: held.generation + 1, updated: now };
    this.partials.set(id, taken);
    await this.write({ p: taken });
    return taken;
  }

  async savePartial(partial: PartialUpload): Promise<boolean> {
    const held = this.partials.get(partial.id);
    if (held ? held.generation !== partial.generation : partial.generation !== 0) return false;
    this.partials.set(partial.id, partial);
    await this.write({ p: partial });
    return true;
  }

  async dropPartial(id: string, generation: number): Promise<boolean> {
    if (this.partials.get(id)?.generation !== generation) return false;
    this.partials.delete(id);
    await this.write({ x: id });
    return true;
  }

  async stalePartials(before: number): Promise<PartialUpload[]> {
    return [...this.partials.values()].filter((partial) => partial.updated < before);
  }

  async claimOrphans(objects: string[], now: number, retryBefore: number): Promise<string[]> {
    for (const [object, time] of this.orphans)
      if (time < now - ORPHAN_MARK_MS) this.orphans.delete(object);
    const pending = new Set([...this.partials.values()].map((partial) => partial.object));
    // One synchronous pass: no commit of this process can come between the check and the mark.
    return objects.filter((object) => {
      if (this.state.objects.has(object) || pending.has(object)) return false;
      if ((this.orphans.get(object) ?? -Infinity) >= retryBefore) return false;
      this.orphans.set(object, now);
      return true;
    });
  }

  private apply(line: Line): void {
    for (const name of line.d ?? []) this.state.drop(name);
    if (line.f) this.state.set(line.f);
    if (line.p) this.partials.set(line.p.id, line.p);
    if (line.x !== undefined) this.partials.delete(line.x);
  }

  private snapshot(): string {
    const lines: string[] = [];
    for (const f of this.state.files.values()) lines.push(JSON.stringify({ f }));
    for (const p of this.partials.values()) lines.push(JSON.stringify({ p }));
    this.lines = lines.length;
    return lines.map((line) => `${line}\n`).join('');
  }

  private async write(line: Line): Promise<void> {
    try {
      await this.log.submit(`${JSON.stringify(line)}\n`);
    } catch (error) {
      throw ioError(error);
    }
  }

  private async flush(lines: string[]): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error('the file index is not open');
    this.lines += lines.length;
    const live = this.state.files.size + this.partials.size;
    if (this.lines > 4 * live + 1000) {
      // The memory state already holds every queued change: the snapshot covers these lines.
      await writeDurably(this.path, this.snapshot(), 0o600);
      this.handle = await open(this.path, 'a');
      await handle.close();
      return;
    }
    await handle.appendFile(lines.join(''));
    await handle.datasync();
  }
}
