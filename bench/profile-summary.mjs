#!/usr/bin/env node
/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): where the main thread's time went, by
 * category (idle, GC, hashing, file system, sockets and streams, JSON, fex's own code, ...) and
 * by function (self time).
 *
 *   node bench/profile-summary.mjs FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

function shortUrl(url) {
  if (!url) return '';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + 1);
  return url.replace(/^file:\/\//, '');
}

function category(frame) {
  const { functionName: name, url } = frame;
  if (name === '(idle)') return 'idle (waiting for I/O)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'V8/native (program)';
  if (url.includes('internal/crypto') || /^(update|digest)$/.test(name)) return 'SHA-256 hashing';
  if (url.includes('internal/fs')) return 'fs (file reads/writes, JS side)';
  if (/node:(internal\/)?(net|stream|streams)|internal\/stream|stream_base|tcp_wrap/.test(url))
    return 'sockets and streams';
  if (url.includes('/dist/src/')) return 'fex code';
  if (url.includes('node_modules')) return 'dependencies (oclif, ...)';
  if (name === 'parse' || name === 'stringify') return 'JSON';
  if (url.startsWith('node:') || url === '') return 'other Node internals';
  return 'other';
}

export function summarize(path, top = 15) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; attribute the next delta to sample i.
    const us = deltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + us);
  });
  const totalUs = (profile.endTime ?? 0) - (profile.startTime ?? 0);
  const byCategory = new Map();
  const byFunction = new Map();
  for (const [id, us] of self) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const cat = category(frame);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}${
      frame.url ? `:${frame.lineNumber + 1}` : ''
    }`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const ms = (us) => Math.round(us / 100) / 10;
  const pct = (us) => (totalUs ? Math.round((1000 * us) / totalUs) / 10 : null);
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: ms(totalUs),
    categories: sorted(byCategory).map(([name, us]) => ({ name, ms: ms(us), pct: pct(us) })),
    topSelf: sorted(byFunction)
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: ms(us), pct: pct(us) })),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-summary.mjs FILE.cpuprofile [TOP]');
    process.exitCode = 2;
  } else {
    const summary = summarize(file, Number(top) || 15);
    console.log(`total ${summary.totalMs} ms`);
    for (const c of summary.categories) console.log(`  ${c.pct}%\t${c.ms} ms\t${c.name}`);
    console.log('top self time:');
    for (const f of summary.topSelf) console.log(`  ${f.pct}%\t${f.ms} ms\t${f.name}`);
  }
}
