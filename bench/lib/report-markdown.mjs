/**
 * results.md, the same table in docs/performance.md after a full run, and the prettier pass that
 * keeps both as `npm run lint` expects.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './paths.mjs';
import { KiB, formatSize, ratio } from './util.mjs';

export function markdown(results) {
  const lines = [];
  const s = (ms) => (ms === null || ms === undefined ? 'n/a' : (ms / 1000).toFixed(2));
  const mib = (kib) => (kib ? `${Math.round(kib / KiB)}` : 'n/a');
  const cpu = (v) =>
    v.clientCpuMs || v.serverCpuMs
      ? `${s(v.clientCpuMs ?? 0)} + ${v.serverCpuMs !== undefined ? s(v.serverCpuMs) : '?'}`
      : 'n/a';
  const { large, memory, many, concurrent, startup } = results;
  lines.push('| target | measured | met? |', '| --- | --- | --- |');
  for (const t of results.targets)
    lines.push(
      `| ${t.target} | ${t.measured ?? 'n/a'}${t.note ? ` (${t.note})` : ''} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`,
    );
  if (large && !large.error) {
    lines.push(
      '',
      `**Store and get of ${large.sizeText}** (median of ${large.runs} runs; SHA-256 of every copy verified)`,
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
  }
  if (memory && !memory.error) {
    lines.push(
      '',
      '**Peak RSS by file size** (MiB; fresh server per size)',
      '',
      '| size | server idle | server during store | server during get | client store | client get |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const row of memory.sizes)
      lines.push(
        `| ${row.sizeText} | ${mib(row.serverIdleRssKiB)} | ${mib(row.serverStorePeakKiB)} | ${mib(row.serverGetPeakKiB)} | ${mib(row.clientStorePeakKiB)} | ${mib(row.clientGetPeakKiB)} |`,
      );
  }
  if (many && !many.error) {
    lines.push(
      '',
      `**${many.files} files of 1 KiB in one session** (median of ${many.runs} runs, start-up included)`,
      '',
      '| contender | median s | files/s | min–max s | flush afterwards s |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [name, v] of Object.entries(many.results))
      lines.push(
        `| ${name} | ${s(v.medianMs)} | ${v.filesPerS} | ${s(v.minMs)}–${s(v.maxMs)} | ${v.syncMs !== undefined ? s(v.syncMs) : ''} |`,
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
  if (startup && !startup.error) {
    lines.push(
      '',
      `**Start-up** (${startup.tool}: ${startup.runs} rounds after 3 warm-up rounds)`,
      '',
      '| command | median ms | min–max ms |',
      '| --- | --- | --- |',
    );
    for (const [name, v] of Object.entries(startup.results))
      lines.push(`| ${name} | ${v.medianMs} | ${v.minMs}–${v.maxMs} |`);
  }
  const mach = results.machine;
  lines.push(
    '',
    `Machine: ${mach.nproc} × ${mach.cpuModel}, ${mach.memoryMiB} MiB RAM, ${mach.os}, Linux ${mach.kernel}, Node ${mach.node}; fex ${mach.commit ?? '?'}${mach.srcModified ? ' (with uncommitted changes in src/)' : ''}; ${results.date}.`,
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
