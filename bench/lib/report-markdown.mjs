/**
 * results.md, the same table in docs/performance.md after a full run, and the prettier pass that
 * keeps both as `npm run lint` expects.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './paths.mjs';
import { KiB, formatSize, ratio, round } from './util.mjs';

export function markdown(results) {
  const lines = [];
  const s = (ms) => (ms === null || ms === undefined ? 'n/a' : (ms / 1000).toFixed(2));
  const mib = (kib) => (kib ? `${Math.round(kib / KiB)}` : 'n/a');
  const cpu = (v) =>
    v.clientCpuMs || v.serverCpuMs
      ? `${s(v.clientCpuMs ?? 0)} + ${v.serverCpuMs !== undefined ? s(v.serverCpuMs) : '?'}`
      : 'n/a';
  const { large, memory, many, many10k, concurrent, crowd, startup } = results;
  lines.push('| target | measured | met? |', '| --- | --- | --- |');
  for (const t of results.targets)
    lines.push(
      `| ${t.target} | ${t.measured ?? 'n/a'}${t.note ? ` (${t.note})` : ''} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`,
    );
  if (large && !large.error) {
    lines.push(
      '',
      `**Store and get of ${large.sizeText}** (median of ${large.runs} interleaved rounds, order rotated; SHA-256 of every copy verified; each contender starts with ${formatSize(large.freeMemoryWarmedBytes ?? 0)} of memory freed a moment before, see docs/performance.md). Limits: the Node pipe with 1 MiB buffers ("tuned pipe"), nc + fsync, dd conv=fsync; the rest is history. nc and dd go one way, so they bound store and get alike; their ratio column is fex's store.`,
      '',
      '| contender | median s | MiB/s | min–max s | ratio fex/this | CPU s client + server | client peak RSS MiB | server/receiver peak RSS MiB |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const r = large.results;
    for (const [name, v] of Object.entries(r)) {
      const fex = name.includes('get') || name === 'sftp get' ? r['fex get'] : r['fex store'];
      const ratioText = name.startsWith('fex') ? '' : (ratio(fex?.medianMs, v.medianMs) ?? '');
      lines.push(
        `| ${name} | ${s(v.medianMs)} | ${v.mibPerS ?? ''} | ${s(v.minMs)}–${s(v.maxMs)} | ${ratioText} | ${cpu(v)} | ${mib(v.clientPeakRssKiB)} | ${mib(v.serverPeakRssKiB)} |`,
      );
    }
    for (const [name, peer] of Object.entries(results.peers ?? {}))
      if (peer && !peer.available && name !== 'hyperfine')
        lines.push(`| ${name} | not run: ${peer.reason} | | | | | | |`);
    for (const [rounds, title] of [
      [
        large.perRoundTarget,
        'Per round, fex against the faster of the tuned pipe and nc in that round (the target is the median):',
      ],
      [
        large.perRound,
        'Per round, fex against the fastest limit of that round, dd conv=fsync included (reported beside the target):',
      ],
    ]) {
      if (!rounds?.store?.length) continue;
      lines.push(
        '',
        title,
        '',
        '| round | store: fex s | fastest limit | s | ratio | get: fex s | fastest limit | s | ratio |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      );
      rounds.store.forEach((st, i) => {
        const g = rounds.get[i] ?? {};
        lines.push(
          `| ${st.round} | ${s(st.fexMs)} | ${st.best} | ${s(st.bestMs)} | ${st.ratio} | ${s(g.fexMs)} | ${g.best ?? ''} | ${s(g.bestMs)} | ${g.ratio ?? ''} |`,
        );
      });
    }
    const hashing = large.perRoundHashingPipe?.store;
    if (hashing?.length) {
      lines.push(
        '',
        `Per round, the tuned pipe doing the store target's own work the plain way, SHA-256 on both ends, inline, and nothing else ("hashing pipe store"), against the faster of the tuned pipe and nc (median ${large.ratios.hashingPipeVsTarget}):`,
        '',
        '| round | hashing pipe s | faster limit | s | ratio |',
        '| --- | --- | --- | --- | --- |',
      );
      for (const f of hashing)
        lines.push(`| ${f.round} | ${s(f.fexMs)} | ${f.best} | ${s(f.bestMs)} | ${f.ratio} |`);
    }
  }
  if (memory && !memory.error) {
    lines.push(
      '',
      '**Peak RSS by file size** (MiB; fresh server per size)',
      '',
      '| size | server idle | server during store | server during get | client store | client get | server store peak: V8 heap / Buffers / rest, hashing thread |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const row of memory.sizes) {
      const p = row.serverStoreAtPeak;
      const parts = p
        ? `${p.heapTotalMiB} / ${p.externalMiB} / ${p.restMiB}, ${p.threads > row.serverIdleThreads ? 'yes' : 'no'}`
        : 'n/a';
      lines.push(
        `| ${row.sizeText} | ${mib(row.serverIdleRssKiB)} | ${mib(row.serverStorePeakKiB)} | ${mib(row.serverGetPeakKiB)} | ${mib(row.clientStorePeakKiB)} | ${mib(row.clientGetPeakKiB)} | ${parts} |`,
      );
    }
  }
  for (const set of [many, many10k]) {
    if (!set || set.error) continue;
    lines.push(
      '',
      `**${set.files} files of 1 KiB in one session** (median of ${set.runs} rounds, order rotated, start-up included; FTP times include \`sync -f\` of the upload folder${set.separateRun ? `; run separately at ${set.separateRun.date}: ${set.separateRun.note}` : ''})`,
      '',
      '| contender | median s | files/s | min–max s | of which flush s |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [name, v] of Object.entries(set.results))
      lines.push(
        `| ${name} | ${s(v.medianMs)} | ${v.filesPerS} | ${s(v.minMs)}–${s(v.maxMs)} | ${v.syncMs !== undefined ? s(v.syncMs) : ''} |`,
      );
    if (set.curlStalls?.length)
      lines.push(
        '',
        `curl's stalls of 0.5 s or more per round: ${set.curlStalls.map((st) => `${st.count} (${s(st.totalMs)} s)`).join(', ')}.${set.curlStalls.find((st) => st.example) ? ` First one: \`${set.curlStalls.find((st) => st.example).example.before.slice(0, 90)}\` then \`${set.curlStalls.find((st) => st.example).example.after.slice(0, 90)}\`.` : ''}`,
      );
    if (set.peerFailures?.length)
      lines.push(
        '',
        `Rounds a peer failed, left out of its median: ${set.peerFailures.map((f) => `${f.label} in run ${f.run} (${f.error.split('\n')[0].slice(0, 120)})`).join('; ')}.`,
      );
  }
  if (concurrent && !concurrent.error) {
    const m = concurrent.medians;
    lines.push(
      '',
      `**${concurrent.clients} concurrent clients** (${formatSize(concurrent.fileSize)} stored and fetched back by each, bytes compared; median of ${concurrent.runs} runs)`,
      '',
      '| wall s | MiB/s (both ways) | transfers/s | per-client min / median / max ms | failed | server RSS idle → peak MiB |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${s(m.wallMs)} | ${m.mibPerS} | ${m.transfersPerS} | ${m.perClientMinMs} / ${m.perClientMedianMs} / ${m.perClientMaxMs} | ${m.failed} | ${mib(m.serverIdleRssKiB)} → ${mib(m.serverPeakRssKiB)} |`,
    );
    const phases = concurrent.samples[0]?.phaseMediansMs;
    if (phases)
      lines.push(
        '',
        `Median per-client phase times (ms, first run): ${Object.entries(phases)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`,
      );
  }
  if (crowd && !crowd.error) {
    const c = crowd;
    lines.push(
      '',
      `**${c.clients} connected clients, ${c.active} transferring at once** (${formatSize(c.fileSize)} stored and fetched back by each, bytes compared; one round)`,
      '',
      '| connected | connect all s | transfers ok / failed | per-client min / median / p95 / max ms | slowest / median | upload events received + dropped (told) / expected | server RSS: before → connected → peak MiB | server CPU s (transfers) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${c.connected} | ${s(c.connectMs)} | ${c.transfers.ok} / ${c.transfers.failed} | ${['min', 'median', 'p95', 'max'].map((k) => c.perClientMs[k] ?? 'n/a').join(' / ')} | ${c.slowestVsMedian ?? 'n/a'} | ${c.events.received} + ${c.events.dropped ?? 'n/a'} / ${c.events.expected} | ${mib(c.server.rssBeforeKiB)} → ${mib(c.server.rssIdleKiB)} → ${mib(c.server.peakRssKiB)} | ${s(c.server.cpuMs)} |`,
      '',
      `Server: open files ${c.server.files.open} of a limit of ${c.server.files.soft}; kernel: somaxconn ${c.kernel.somaxconn}, tcp_max_syn_backlog ${c.kernel.tcpMaxSynBacklog}.${c.errors.length ? ` Transfer errors: ${c.errors.join('; ')}` : ''}`,
    );
    const p = c.server.atPeak;
    if (p)
      lines.push(
        '',
        `At its peak the server's ${p.rssMiB} MiB were: V8's heap ${p.heapTotalMiB} MiB (young generation ${p.youngMiB}, old space in use ${p.oldUsedMiB}), Buffers ${p.externalMiB} MiB, the rest (code, Node's and libc's allocations) ${p.restMiB} MiB.`,
      );
  }
  if (startup && !startup.error) {
    lines.push(
      '',
      `**Start-up** (${startup.tool}: ${startup.runs} rounds after 3 warm-up rounds, order rotated; the empty CLI loads oclif through \`require\`, as fex does; per-round ratio ${startup.ratios.fexDirVsEmptyOclifPerRound ?? 'n/a'}${startup.ratios.floorVsEmptyOclifPerRound === undefined ? '' : `; the floor's, the empty CLI with a second command and one TCP round trip, ${startup.ratios.floorVsEmptyOclifPerRound}`})`,
      '',
      '| command | median ms | min–max ms |',
      '| --- | --- | --- |',
    );
    for (const [name, v] of Object.entries(startup.results))
      lines.push(`| ${name} | ${v.medianMs} | ${v.minMs}–${v.maxMs} |`);
  }
  const mach = results.machine;
  const steal = results.machineLoad?.hostStealShare;
  const host =
    typeof steal === 'number'
      ? ` Of the CPU time this machine had work for during the run, its host gave ${round(steal * 100, 1)}% to something else (steal), which slows every contender alike.`
      : '';
  lines.push(
    '',
    `Machine: ${mach.nproc} × ${mach.cpuModel}, ${mach.memoryMiB} MiB RAM, ${mach.os}, Linux ${mach.kernel}, Node ${mach.node}; fex ${mach.commit ?? '?'}${mach.srcModified ? ' (with uncommitted changes in src/)' : ''}; ${results.date}.${host}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Formats a generated file the way `npm run lint` expects, when prettier is installed. */
export async function prettify(path) {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(path)) ?? {};
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, await prettier.format(text, { ...config, filepath: path }));
  } catch {
    // prettier is a dev dependency; without it the file stays as written
  }
}

/** Replaces the generated block of docs/performance.md, if the file has the markers. */
export function updateDocs(table) {
  const path = join(REPO, 'docs', 'performance.md');
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const begin = '<!-- bench:results:begin -->';
  const end = '<!-- bench:results:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  writeFileSync(path, `${text.slice(0, a + begin.length)}\n\n${table}\n${text.slice(b)}`);
  return path;
}
