/**
 * Writing a large download around the page cache (O_DIRECT), for write-behind.ts.
 *
 * Through the page cache, every MiB a receiving end writes is copied into pages the kernel must
 * first allocate, later find dirty and write back. On this project's virtual machine that cost the
 * `fex get` client about a fifth of its CPU: for 1 GiB, 2.06 s of CPU with O_DIRECT against 2.54 s
 * through the cache (medians of 10 alternating rounds), and 18 MiB less peak memory
 * (docs/performance.md, "Downloads written around the page cache"). On two cores that both ends
 * of a transfer share, that CPU is the transfer's time.
 *
 * The server does not do it: a stored file is read again, often soon, and read from the cache
 * it costs the server little; written around the cache, a get that followed the store read it
 * from the disk, and took 2.15-2.20 s instead of 1.76 s, though the store itself was 0.3-0.5 s of
 * server CPU cheaper. A download's file is the user's to open; the cache holds it no longer.
 *
 * O_DIRECT wants the memory, the file position and the length aligned, so the chunks are copied
 * into aligned staging blocks; the last few bytes of a transfer (less than one alignment unit) go
 * through the ordinary descriptor. The direct descriptor is the same open file reopened through
 * /proc/self/fd: no path is looked up again, so nothing renamed or planted in between is written.
 * Wherever any of this is missing (not Linux, no /proc, a file system that refuses O_DIRECT, no
 * WebAssembly for aligned memory, all staging blocks in use), the writer stays on the page cache.
 */
import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';

/** Transfers with fewer bytes still to write than this use the page cache. */
export const DIRECT_MIN_BYTES = 16 * 1024 * 1024;

/** File positions, lengths and memory addresses of direct writes are multiples of this. */
export const DIRECT_ALIGN = 4096;

/** One staging block: a write-behind batch. */
export const BLOCK_BYTES = 1024 * 1024;

/** Blocks in the pool; each direct writer holds two, so four downloads at once write directly. */
export const POOL_BLOCKS = 8;

/** WebAssembly memory is counted in pages of 64 KiB. */
const WASM_PAGE = 64 * 1024;

/**
 * Aligned staging memory. A WebAssembly memory is page-aligned (V8 maps it on its own), which no
 * Buffer allocation promises. It is made on first use, at its full size, and never grown: growing
 * would detach the buffers in flight. Its pages become resident only as blocks are first used.
 */
class StagingPool {
  private free: Buffer[] | undefined;

  take(): Buffer | undefined {
    this.free ??= this.carve();
    return this.free.pop();
  }

  give(block: Buffer): void {
    this.free?.push(block);
  }

  private carve(): Buffer[] {
    if (typeof WebAssembly !== 'object') return [];
    try {
      const memory = new WebAssembly.Memory({ initial: (POOL_BLOCKS * BLOCK_BYTES) / WASM_PAGE });
      const blocks: Buffer[] = [];
      for (let at = 0; at < POOL_BLOCKS * BLOCK_BYTES; at += BLOCK_BYTES)
        blocks.push(Buffer.from(memory.buffer, at, BLOCK_BYTES));
      return blocks;
    } catch {
      // Out of address space, or WebAssembly switched off (--jitless): the page cache it is.
      return [];
    }
  }
}

const pool = new StagingPool();

/** What a writer holds to write directly: a second descriptor and two staging blocks. */
export interface DirectWriter {
  handle: FileHandle;
  blocks: [Buffer, Buffer];
}

/**
 * A direct descriptor and two staging blocks for `file`, whose next write goes to `position`, when
 * `remaining` bytes are still to come and all of it can be had; undefined otherwise.
 */
export async function openDirect(
  file: FileHandle,
  position: number,
  remaining: number,
): Promise<DirectWriter | undefined> {
  const { O_DIRECT } = constants;
  if (O_DIRECT === undefined || remaining < DIRECT_MIN_BYTES || position % DIRECT_ALIGN !== 0)
    return undefined;
  const first = pool.take();
  const second = first && pool.take();
  if (!first || !second) {
    if (first) pool.give(first);
    return undefined;
  }
  try {
    // Reopening through /proc asks only the file's permissions: a descriptor opened for reading
    // must not gain a writer this way, and only a regular file has positions to align.
    if (!(await writable(file.fd)) || !(await file.stat()).isFile())
      throw new Error('not a writable regular file');
    const handle = await open(`/proc/self/fd/${file.fd}`, constants.O_WRONLY | O_DIRECT);
    return { handle, blocks: [first, second] };
  } catch {
    pool.give(first);
    pool.give(second);
    return undefined;
  }
}

/** Whether the descriptor was opened for writing (its flags, as /proc/self/fdinfo shows them). */
async function writable(fd: number): Promise<boolean> {
  const flags = /^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'latin1'));
  // The access mode is the two low bits of the flags.
  return flags !== null && (Number.parseInt(flags[1] ?? '0', 8) & 3) !== constants.O_RDONLY;
}

/** Gives the blocks back and closes the descriptor; the writer's bytes are all written by now. */
export async function closeDirect(direct: DirectWriter): Promise<void> {
  for (const block of direct.blocks) pool.give(block);
  await direct.handle.close().catch(() => undefined);
}

/** The file system or the memory refused a direct write: the writer goes on through the cache. */
export function refusesDirect(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EINVAL';
}
