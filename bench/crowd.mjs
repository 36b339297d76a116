#!/usr/bin/env node
/**
 * One worker of the crowd benchmark: COUNT fex clients in this process, each connected and
 * registered, listening for upload events like an idle shell. The first ACTIVE of them later
 * store a file of SIZE bytes and fetch it back, comparing every byte.
 *
 *   node bench/crowd.mjs ROOT PORT COUNT FIRST ACTIVE SIZE PREFIX DIR
 *
 * Protocol with the bench, one line each way:
 *   worker: `connected`     every client is registered (or failed: see the report)
 *   bench:  `go`            the active clients start together
 *   worker: {"active": ...} one JSON line: each active client's time and outcome
 *   bench:  `drain N`       N uploads succeeded in all: wait (up to 120 s) until every idle
 *                           client has heard of each upload it should, as an event or in the
 *                           count of a `dropped` notice, then report and leave
 *   worker: {"events": ...} one JSON line: events received, clients still connected, peak RSS
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [root, port, countText, firstText, activeText, sizeText, prefix, dir] = process.argv.slice(2);
const { Session } = await import(pathToFileURL(join(root, 'dist/src/client/session.js')).href);
const count = Number(countText);
const first = Number(firstText);
const active = Number(activeText);
const size = Number(sizeText);
// Connections opened at once: enough to fill the server's accept queue, not to overflow it.
const CONNECT_AT_ONCE = 100;

const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

/** One client: its session, what it has seen, and (if active) its file. */
const clients = [];
for (let i = 0; i < count; i++)
  clients.push({
    handle: `${prefix}-${first + i}`,
    session: null,
    events: 0,
    // Events the server dropped for this client (it fell behind), as its `dropped` notices said.
    dropped: 0,
    closed: false,
    error: null,
    file: i < active ? `${prefix}-${first + i}.bin` : null,
  });

mkdirSync(join(dir, 'up'), { recursive: true });
mkdirSync(join(dir, 'down'), { recursive: true });
const contents = new Map();
for (const c of clients.filter((c) => c.file)) {
  const content = randomBytes(size);
  writeFileSync(join(dir, 'up', c.file), content);
  contents.set(c.file, content);
}

async function join1(client) {
  try {
    const session = await Session.open({ host: '127.0.0.1', port: Number(port) });
    client.session = session;
    session.on('event', (event) => {
      if (event.event === 'uploaded') client.events++;
      else if (event.event === 'dropped' && typeof event.count === 'number')
        client.dropped += event.count;
    });
    session.on('close', () => (client.closed = true));
    await session.register(client.handle);
  } catch (error) {
    client.error = String(error?.message ?? error);
  }
}

const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(CONNECT_AT_ONCE, count) }, async () => {
    while (next < clients.length) await join1(clients[next++]);
  }),
);
const connectMs = performance.now() - t0;
const joinErrors = clients.filter((c) => c.error).map((c) => c.error);
process.stdout.write('connected\n');

await nextLine();
async function transfer(client) {
  const start = performance.now();
  try {
    if (client.error) throw new Error(`never joined: ${client.error}`);
    await client.session.store(join(dir, 'up', client.file));
    const stored = performance.now();
    const out = join(dir, 'down', client.file);
    await client.session.get(client.file, out);
    const back = await readFile(out);
    if (!back.equals(contents.get(client.file)))
      throw new Error(`${client.file} came back different`);
    const end = performance.now();
    return { ok: true, startMs: start, storeMs: stored - start, ms: end - start };
  } catch (error) {
    return {
      ok: false,
      startMs: start,
      ms: performance.now() - start,
      error: String(error?.message ?? error),
    };
  }
}
const go = performance.now();
const results = await Promise.all(clients.filter((c) => c.file).map(transfer));
process.stdout.write(
  `${JSON.stringify({
    active: results.map((r) => ({ ...r, startMs: r.startMs - go })),
    connectMs,
    connected: count - joinErrors.length,
    joinErrors: [...new Set(joinErrors)].slice(0, 5),
  })}\n`,
);

const [, uploadsText] = (await nextLine()).split(' ');
const uploads = Number(uploadsText);
// Each client hears of every upload but its own, or is told how many of them were dropped.
const expected = (c) => uploads - (c.file && results[clients.indexOf(c)]?.ok ? 1 : 0);
const accounted = (c) => c.events + c.dropped;
const listening = clients.filter((c) => !c.error);
const drainStart = performance.now();
while (
  listening.some((c) => !c.closed && accounted(c) < expected(c)) &&
  performance.now() - drainStart < 120_000
)
  await new Promise((resolve) => setTimeout(resolve, 50));
const events = listening.reduce((sum, c) => sum + c.events, 0);
const dropped = listening.reduce((sum, c) => sum + c.dropped, 0);
const short = listening.filter((c) => accounted(c) < expected(c)).length;
process.stdout.write(
  `${JSON.stringify({
    events,
    dropped,
    clientsTold: listening.filter((c) => c.dropped > 0).length,
    expectedEvents: listening.reduce((sum, c) => sum + expected(c), 0),
    clientsShortOfEvents: short,
    stillConnected: listening.filter((c) => !c.closed).length,
    drainMs: performance.now() - drainStart,
    maxRssKiB: process.resourceUsage().maxRSS,
  })}\n`,
);
for (const c of listening) c.session.close();
lines.close();
