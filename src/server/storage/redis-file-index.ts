/**
 * The file index shared by several fex servers, in Redis. Each decision about a name is one Lua
 * script (redis-index-scripts.ts), which Redis runs atomically: two servers storing one name at
 * the same moment get one owner and one E_NOT_OWNER, and the case/Unicode clash rule holds across
 * servers. The client is given (the `--state` option owns the connection); this class only uses
 * it. Its keys all start with `keyPrefix` (e.g. `fex:my-bucket/team-a:`), so several clusters can
 * share one Redis database.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { FexError } from '../../shared/errors.js';
import { byCodePoint } from '../../shared/code-point-order.js';
import { nameKey } from '../../protocol/names.js';
import {
  ORPHAN_MARK_MS,
  type Displaced,
  type FileIndex,
  type IndexedFile,
  type PartialUpload,
  type Renamed,
} from './file-index.js';
import { notOwner, orphanedObject } from './meta-record.js';
import * as scripts from './redis-index-scripts.js';
import { onRedis } from '../state/state-down.js';
import type { ListOptions } from './storage.js';

type Reply = [string, ...string[]] | null;

export class RedisFileIndex implements FileIndex {
  private readonly fileKeys: string[];
  private readonly partialKeys: string[];
  /** The orphans handed out (sorted set object -> ms), and the objects map's ready mark. */
  private readonly orphanKeys: [string, string];
  private readonly shas = new Map<string, string>();
  /** When this process last completed the objects map from `files` (ms; 0: never). */
  private mappedAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'fex:',
  ) {
    const k = (name: string) => `${keyPrefix}${name}`;
    this.partialKeys = [k('partials'), k('partial-generations'), k('partial-times')];
    this.fileKeys = [k('files'), k('names'), k('keys'), k('owners'), k('expiry'), k('objects')];
    this.orphanKeys = [k('orphans'), k('objects-ready')];
  }

  async open(): Promise<void> {
    await onRedis(() => this.redis.ping());
  }

  /** The client is the caller's: closing the index leaves it connected. */
  async close(): Promise<void> {}

  async get(name: string): Promise<IndexedFile | undefined> {
    const json = await onRedis(() => this.redis.hget(this.fileKeys[0]!, name));
    return json === null ? undefined : record(name, json);
  }

  async page(options: ListOptions): Promise<IndexedFile[]> {
    const { after, prefix = '', limit = Infinity } = options;
    if (limit <= 0) return [];
    const min =
      after !== undefined && byCodePoint(after, prefix) >= 0
        ? `(${after}`
        : prefix === ''
          ? '-'
          : `[${prefix}`;
    // No UTF-8 string holds the byte 0xff: `prefix` + 0xff is after every name it starts.
    const max = prefix === '' ? '+' : Buffer.concat([Buffer.from(`[${prefix}`), Buffer.of(0xff)]);
    const names = await onRedis(() =>
      Number.isFinite(limit)
        ? this.redis.zrangebylex(this.fileKeys[1]!, min, max, 'LIMIT', 0, limit)
        : this.redis.zrangebylex(this.fileKeys[1]!, min, max),
    );
    if (names.length === 0) return [];
    const jsons = await onRedis(() => this.redis.hmget(this.fileKeys[0]!, ...names));
    const files: IndexedFile[] = [];
    // A name removed between the two calls is simply not on the page.
    names.forEach((name, i) => {
      const json = jsons[i];
      if (json) files.push(record(name, json));
    });
    return files;
  }

  async count(owner?: string | null): Promise<number> {
    if (owner === undefined) return onRedis(() => this.redis.hlen(this.fileKeys[0]!));
    const n = await onRedis(() => this.redis.hget(this.fileKeys[3]!, owner ?? ''));
    return Math.max(0, Number(n ?? 0));
  }

  async check(name: string, owner: string, now: number): Promise<void> {
    decide(name, await this.files(scripts.CHECK, [now, name, nameKey(name), owner]));
  }

  async commit(file: IndexedFile, now: number, partial?: string): Promise<Displaced> {
    const { name, owner, expires } = file;
    const args = [now, name, nameKey(name), owner ?? '', json(file), expires ?? '', partial ?? ''];
    const keys = [...this.fileKeys, ...this.partialKeys, this.orphanKeys[0]];
    const reply = (await this.run(scripts.COMMIT, keys, [...args, file.object])) as Reply;
    if (reply?.[0] === 'E_ORPHANED') throw orphanedObject(name);
    const [, previous] = decide(name, reply);
    return previous ? { previous: record(name, previous) } : {};
  }

  async remove(name: string, owner: string | undefined, now: number): Promise<IndexedFile> {
    const args = [now, name, nameKey(name), owner ?? ''];
    const [, removed] = decide(name, await this.files(scripts.REMOVE, args), 'delete');
    return record(name, removed!);
  }

  async rename(from: string, to: string, owner: string, now: number): Promise<Renamed> {
    const args = [now, from, nameKey(from), to, nameKey(to), owner];
    const reply = await this.files(scripts.RENAME, args);
    if (reply?.[0] === 'E_NAME_TAKEN') throw new FexError('E_NAME_TAKEN', { name: to });
    // A refusal about `from` is of a rename; about `to`, of a replacement.
    if (reply?.[0] === 'E_NOT_OWNER') {
      const verb = reply[2] as string;
      throw notOwner(record(verb === 'rename' ? from : to, reply[1]!), verb);
    }
    if (reply?.[0] === 'E_NOT_FOUND') throw new FexError('E_NOT_FOUND', { name: from });
    const [, moved, previous] = decide(to, reply);
    const file = record(to, moved!);
    return previous ? { file, previous: record(to, previous) } : { file };
  }

  async expireOne(name: string, now: number): Promise<IndexedFile | undefined> {
    const sha = await this.run(scripts.EXPIRE_ONE, this.fileKeys, [now, name, nameKey(name)]);
    return typeof sha === 'string' ? record(name, sha) : undefined;
  }

  async due(now: number, limit: number): Promise<{ names: string[]; next: number | undefined }> {
    const expiry = this.fileKeys[4]!;
    const [names, after] = await onRedis(() =>
      Promise.all([
        this.redis.zrangebyscore(expiry, '-inf', now, 'LIMIT', 0, limit),
        this.redis.zrangebyscore(expiry, `(${now}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1),
      ]),
    );
    return { names, next: after.length > 1 ? Number(after[1]) : undefined };
  }

  async takePartial(id: string, now: number): Promise<PartialUpload | undefined> {
    const reply = (await this.run(scripts.TAKE_PARTIAL, this.partialKeys, [now, id])) as
      [string, number] | null;
    if (!reply) return undefined;
    return { ...(JSON.parse(reply[0]) as PartialUpload), generation: reply[1], updated: now };
  }

  async savePartial(partial: PartialUpload): Promise<boolean> {
    const { generation, updated, ...rest } = partial;
    const args = [updated, partial.id, generation, JSON.stringify(rest)];
    return (await this.run(scripts.SAVE_PARTIAL, this.partialKeys, args)) === 1;
  }

  async dropPartial(id: string, generation: number): Promise<boolean> {
    return (await this.run(scripts.DROP_PARTIAL, this.partialKeys, [id, generation])) === 1;
  }

  async stalePartials(before: number): Promise<PartialUpload[]> {
    const [partials, generations, times] = this.partialKeys as [string, string, string];
    const flat = await onRedis(() =>
      this.redis.zrangebyscore(times, '-inf', `(${before}`, 'WITHSCORES', 'LIMIT', 0, 1000),
    );
    if (flat.length === 0) return [];
    const ids = flat.filter((_, i) => i % 2 === 0);
    const [jsons, gens] = await onRedis(() =>
      Promise.all([this.redis.hmget(partials, ...ids), this.redis.hmget(generations, ...ids)]),
    );
    const stale: PartialUpload[] = [];
    ids.forEach((_, i) => {
      const text = jsons[i];
      if (text)
        stale.push({
          ...(JSON.parse(text) as PartialUpload),
          generation: Number(gens[i] ?? 0),
          updated: Number(flat[2 * i + 1]),
        });
    });
    return stale;
  }

  async claimOrphans(objects: string[], now: number, retryBefore: number): Promise<string[]> {
    if (objects.length === 0) return [];
    // Once per sweep (claims of one sweep come within half an interval, retryBefore's span).
    if (this.mappedAt < retryBefore) await this.mapObjects(now);
    const map = this.fileKeys[5]!;
    // Most objects listed are files': only the others go through the script, which checks again.
    const named = await onRedis(() => this.redis.hmget(map, ...objects));
    const unnamed = objects.filter((_, i) => named[i] === null);
    if (unnamed.length === 0) return [];
    const keys = [map, this.partialKeys[0]!, ...this.orphanKeys];
    const args = [now, retryBefore, now - ORPHAN_MARK_MS, ...unnamed];
    return (await this.run(scripts.CLAIM_ORPHANS, keys, args)) as string[];
  }

  /**
   * Enters every stored file's object in the objects map, one HSCAN page at a time (commits
   * meanwhile keep it themselves), then marks it ready: until the first such pass no orphan is
   * claimed. Done at every sweep, not once: a server of a version before the map (in a cluster
   * being upgraded) commits without entering its object, and a sweep trusting the map would take
   * that file's bytes for an orphan. What such a server commits during the pass itself is the
   * one case left (docs/storage.md, "Orphans").
   */
  private async mapObjects(now: number): Promise<void> {
    const [files, , , , , map] = this.fileKeys as [string, ...string[]];
    let cursor = '0';
    do {
      const [next, flat] = await onRedis(() => this.redis.hscan(files, cursor, 'COUNT', 500));
      const names = flat.filter((_, i) => i % 2 === 0);
      if (names.length > 0) await this.run(scripts.MAP_FILES, [files, map!], names);
      cursor = next;
    } while (cursor !== '0');
    await onRedis(() => this.redis.set(this.orphanKeys[1], '1'));
    this.mappedAt = now;
  }

  private files(script: string, args: Array<string | number>) {
    return this.run(script, this.fileKeys, args) as Promise<Reply>;
  }

  /** EVALSHA, and EVAL once when the server does not know the script yet (or lost it). */
  private async run(script: string, keys: string[], args: Array<string | number>) {
    let sha = this.shas.get(script);
    if (!sha) this.shas.set(script, (sha = createHash('sha1').update(script).digest('hex')));
    return onRedis(async () => {
      try {
        return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
        return this.redis.eval(script, keys.length, ...keys, ...args);
      }
    });
  }
}

/** The record JSON held in Redis: the record without its name, which is the hash field. */
function json(file: IndexedFile): string {
  const { name, ...rest } = file;
  void name;
  return JSON.stringify(rest);
}

function record(name: string, text: string): IndexedFile {
  return { name, ...(JSON.parse(text) as Omit<IndexedFile, 'name'>) };
}

/** A script's refusal as the FexError it stands for; its reply when it went through. */
function decide(name: string, reply: Reply, verb = 'replace'): string[] {
  if (!reply) throw new FexError('E_INTERNAL', { reason: 'the shared state gave no answer' });
  const [code, detail] = reply;
  if (code === 'OK') return reply;
  if (code === 'E_NOT_OWNER') throw notOwner(record(name, detail!), verb);
  if (code === 'E_NAME_CLASH') throw new FexError('E_NAME_CLASH', { existing: detail });
  if (code === 'E_NOT_FOUND') throw new FexError('E_NOT_FOUND', { name });
  throw new FexError('E_INTERNAL', { reason: `the shared state answered ${code}` });
}
