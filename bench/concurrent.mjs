#!/usr/bin/env node
/**
 * One worker of the concurrency benchmark: N fex clients in this process, started together. Each
 * client connects, registers its own handle, stores its own file, fetches it back and compares
 * every byte; its time from connect to verified is recorded per phase.
 *
 *   node bench/concurrent.mjs ROOT PORT CLIENTS FIRST SIZE PREFIX DIR
 *
 * The worker prepares its files, prints `ready`, waits for `go` on stdin, runs the clients, and
 * prints one JSON line with every client's times.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [root, port, clientsText, firstText, sizeText, prefix, dir] = process.argv.slice(2);
const { Session } = await import(pathToFileURL(join(root, 'dist/src/client/session.js')).href);
const clients = Number(clientsText);
const first = Number(firstText);
const size = Number(sizeText);

mkdirSync(join(dir, 'up'), { recursive: true });
mkdirSync(join(dir, 'down'), { recursive: true });
const jobs = [];
for (let i = first; i < first + clients; i++) {
  const name = `${prefix}-${String(i).padStart(4, '0')}.bin`;
  const content = randomBytes(size);
  writeFileSync(join(dir, 'up', name), content);
  jobs.push({ handle: `${prefix}-${i}`, name, content });
}

async function client({ handle, name, content }) {
  const t0 = performance.now();
  const phases = {};
  let mark = t0;
  const lap = (phase) => {
    const now = performance.now();
    phases[phase] = now - mark;
    mark = now;
  };
  let session;
  try {
    session = await Session.open({ host: '127.0.0.1', port: Number(port) });
    lap('connect');
    await session.register(handle);
    lap('register');
    await session.store(join(dir, 'up', name));
    lap('store');
    const out = join(dir, 'down', name);
    await session.get(name, out);
    lap('get');
    const back = await readFile(out);
    if (!back.equals(content)) throw new Error(`${name} came back different`);
    await session.leave();
    lap('leave');
    return { ok: true, start: t0, end: performance.now(), ms: performance.now() - t0, phases };
  } catch (error) {
    session?.close();
    return {
      ok: false,
      start: t0,
      end: performance.now(),
      ms: performance.now() - t0,
      phases,
      error: String(error?.message ?? error),
    };
  }
}

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
lines.close();
const t0 = performance.now();
const results = await Promise.all(jobs.map(client));
const wallMs = performance.now() - t0;
process.stdout.write(
  `${JSON.stringify({
    wallMs,
    bytes: results.filter((r) => r.ok).length * size * 2,
    maxRssKiB: process.resourceUsage().maxRSS,
    clients: results.map((r) => ({ ...r, start: r.start - t0, end: r.end - t0 })),
  })}\n`,
);
