/**
 * The ownership and name rules of a file index, on plain maps: the in-process index applies them
 * directly, and the Redis index's scripts (redis-index-scripts.ts) are the same rules in Lua. One
 * call changes the maps synchronously or throws, so within one process each call is atomic.
 */
import { FexError } from '../../shared/errors.js';
import { nameKey } from '../../protocol/names.js';
import type { Displaced, IndexedFile, Renamed } from './file-index.js';
import { isExpired, notOwner } from './meta-record.js';
import { NameOrder } from './name-order.js';

export class IndexState {
  readonly files = new Map<string, IndexedFile>();
  readonly order = new NameOrder();
  /** nameKey -> name, to find case and Unicode-form clashes without a scan. */
  readonly keys = new Map<string, string>();
  /** object key -> name: whether a file still needs an object, for the orphan sweep. */
  readonly objects = new Map<string, string>();

  live(name: string, now: number): IndexedFile | undefined {
    const file = this.files.get(name);
    return file && !isExpired(file, now) ? file : undefined;
  }

  check(name: string, owner: string, now: number): void {
    const existing = this.live(name, now);
    if (existing && existing.owner !== owner) throw notOwner(existing, 'replace');
    if (existing) return;
    const other = this.keys.get(nameKey(name));
    if (other !== undefined && other !== name && this.live(other, now))
      throw new FexError('E_NAME_CLASH', { existing: other });
  }

  commit(file: IndexedFile, now: number): Displaced {
    this.check(file.name, file.owner ?? '', now);
    const previous = this.files.get(file.name);
    this.set(file);
    return previous ? { previous } : {};
  }

  remove(name: string, owner: string | undefined, now: number): IndexedFile {
    const file = this.live(name, now);
    if (!file) throw new FexError('E_NOT_FOUND', { name });
    if (owner !== undefined && file.owner !== owner) throw notOwner(file, 'delete');
    this.drop(name);
    return file;
  }

  rename(from: string, to: string, owner: string, now: number): Renamed {
    const held = this.live(from, now);
    if (!held) throw new FexError('E_NOT_FOUND', { name: from });
    if (held.owner !== owner) throw notOwner(held, 'rename');
    const target = this.live(to, now);
    if (target)
      throw target.owner === owner
        ? new FexError('E_NAME_TAKEN', { name: to })
        : notOwner(target, 'replace');
    const other = this.keys.get(nameKey(to));
    if (other !== undefined && other !== from && this.live(other, now))
      throw new FexError('E_NAME_CLASH', { existing: other });
    // An expired file not swept yet gives way, as the sweep would have removed it.
    const previous = this.files.get(to);
    if (previous) this.drop(to);
    this.drop(from);
    const file = { ...held, name: to };
    this.set(file);
    return previous ? { file, previous } : { file };
  }

  expireOne(name: string, now: number): IndexedFile | undefined {
    const file = this.files.get(name);
    if (!file || !isExpired(file, now)) return undefined;
    this.drop(name);
    return file;
  }

  set(file: IndexedFile): void {
    const replaced = this.files.get(file.name);
    if (replaced && this.objects.get(replaced.object) === file.name)
      this.objects.delete(replaced.object);
    this.order.add(file.name, file.owner, replaced?.owner);
    this.files.set(file.name, file);
    this.keys.set(nameKey(file.name), file.name);
    this.objects.set(file.object, file.name);
  }

  drop(name: string): void {
    const file = this.files.get(name);
    if (!file) return;
    this.order.remove(name, file.owner);
    this.files.delete(name);
    if (this.objects.get(file.object) === name) this.objects.delete(file.object);
    // A file renamed to a name of the same key (a change of case) holds the key now.
    if (this.keys.get(nameKey(name)) === name) this.keys.delete(nameKey(name));
  }
}
