/**
 * The body of the hashing thread (see file-hash.ts). It hashes byte ranges of files that the main
 * thread holds open, by reading them back from their descriptors (from the page cache: they were
 * just written, or are being sent), so no file data crosses between threads. Jobs advance 1 MiB at
 * a time in turn, so one large file does not hold up the others, and messages are read between.
 */
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { HashReply, HashRequest } from './file-hash.js';

interface Job {
  fd: number;
  hash: Hash;
  done: number;
  upTo: number;
  /** The main thread waits for the digest once `upTo` is hashed. */
  finishing: boolean;
  /** Why the job failed (a read failed, the file was short), told when the digest is asked. */
  failed?: string;
}

const SLICE = 1024 * 1024;
const port = parentPort;
if (!port) throw new Error('hash-thread.js runs only as a worker thread');
const jobs = new Map<number, Job>();
const slice = Buffer.allocUnsafe(SLICE);
let pumping = false;

function reply(message: HashReply): void {
  port?.postMessage(message);
}

/** Hashes the next slice of one job; true if that job has more to do now. */
function step(id: number, job: Job): boolean {
  if (job.failed !== undefined) {
    if (job.finishing) {
      jobs.delete(id);
      reply({ id, error: job.failed });
    }
    return false;
  }
  const want = Math.min(SLICE, job.upTo - job.done);
  if (want > 0) {
    const got = readSync(job.fd, slice, 0, want, job.done);
    if (got === 0) throw new Error(`the file ended at ${job.done} bytes, before ${job.upTo}`);
    job.hash.update(slice.subarray(0, got));
    job.done += got;
  }
  if (job.done < job.upTo) return true;
  if (job.finishing) {
    jobs.delete(id);
    reply({ id, digest: job.hash.digest('hex') });
  }
  return false;
}

/** One slice of every job with work, then again after pending messages are read. */
function pump(): void {
  let more = false;
  for (const [id, job] of jobs) {
    try {
      more = step(id, job) || more;
    } catch (error) {
      job.failed = error instanceof Error ? error.message : String(error);
      more = step(id, job) || more;
    }
  }
  pumping = more;
  if (more) setImmediate(pump);
}

function kick(): void {
  if (pumping) return;
  pumping = true;
  setImmediate(pump);
}

port.on('message', (message: HashRequest) => {
  const { id } = message;
  if (message.op === 'start') {
    jobs.set(id, {
      fd: message.fd,
      hash: createHash('sha256'),
      done: 0,
      upTo: 0,
      finishing: false,
    });
    return;
  }
  const job = jobs.get(id);
  if (message.op === 'drop') {
    // The main thread closes the descriptor only after this answer: never read a reused one.
    jobs.delete(id);
    reply({ id, dropped: true });
    return;
  }
  if (!job) {
    if (message.op === 'finish') reply({ id, error: 'no such hashing job' });
    return;
  }
  job.upTo = Math.max(job.upTo, message.upTo);
  if (message.op === 'finish') job.finishing = true;
  kick();
});
