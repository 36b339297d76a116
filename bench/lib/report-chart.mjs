/** chart.svg: one panel per comparison, drawn from results.json by chart.mjs. */
import { drawChart } from './chart.mjs';
import { KiB, formatSize } from './util.mjs';

/** A ratio for a title: two decimals, or ? when it could not be measured. */
function x2(value) {
  return typeof value === 'number' ? value.toFixed(2) : '?';
}

export function chart(results) {
  const panels = [];
  const { large, many, startup, concurrent, memory } = results;
  const unavailable = (name) => {
    const peer = results.peers?.[name];
    return peer && !peer.available ? `not run: ${peer.reason}` : 'not run';
  };
  if (large && !large.error) {
    const r = large.results;
    const s = (name) => (r[name]?.medianMs ?? null) && r[name].medianMs / 1000;
    for (const [op, fex, tuned, pipe, ftp, sftp] of [
      [
        'Store',
        'fex store',
        'tuned pipe store',
        'node pipe store',
        'vsftpd+curl store',
        'sftp put',
      ],
      ['Get', 'fex get', 'tuned pipe get', 'node pipe get', 'vsftpd+curl get', 'sftp get'],
    ]) {
      const limits = [s(tuned), s('nc')].filter(Boolean);
      const best = limits.length ? Math.min(...limits) : null;
      const key = op === 'Store' ? 'store' : 'get';
      panels.push({
        title: `${op} ${large.sizeText} (median of ${large.runs}; fex ${x2(
          large.ratios[`${key}VsTarget`],
        )}x the faster of the tuned pipe and nc, ${x2(large.ratios[`${key}VsBest`])}x with dd, per round)`,
        unit: 'seconds, lower is better',
        bars: [
          { label: fex, value: s(fex), fex: true },
          { label: 'Node pipe, 1 MiB buffers (fsync)', value: s(tuned) },
          { label: 'nc (+fsync)', value: s('nc'), note: s('nc') ? '' : unavailable('nc') },
          { label: 'disk: dd conv=fsync', value: s('disk (dd conv=fsync)') },
          ...(op === 'Store' && s('hashing pipe store')
            ? [
                {
                  label: 'Node pipe, 1 MiB, SHA-256 on both ends',
                  value: s('hashing pipe store'),
                },
              ]
            : []),
          { label: 'history: Node pipe, default buffers', value: s(pipe) },
          {
            label: `history: vsftpd + curl (+fsync)`,
            value: s(ftp),
            note: s(ftp) ? '' : unavailable('vsftpd'),
          },
          {
            label: `history: OpenSSH ${sftp} -f`,
            value: s(sftp),
            note: s(sftp) ? '' : unavailable('sshd'),
          },
        ],
        target: best ? { value: best * 1.1, label: 'target: 1.1x tuned pipe / nc' } : undefined,
      });
    }
  }
  if (memory && !memory.error && memory.sizes.length) {
    const bars = [];
    for (const row of memory.sizes) {
      bars.push({
        label: `server, store ${row.sizeText}`,
        value: row.serverStorePeakKiB / KiB,
        fex: true,
      });
      bars.push({
        label: `client, store ${row.sizeText}`,
        value: row.clientStorePeakKiB / KiB,
        fex: true,
      });
    }
    const pipe = large?.results?.['node pipe store'];
    if (pipe?.clientPeakRssKiB)
      bars.push({
        label: `Node pipe sender, ${large.sizeText}`,
        value: pipe.clientPeakRssKiB / KiB,
      });
    panels.push({ title: 'Peak RSS by file size', unit: 'MiB, lower is better', digits: 0, bars });
  }
  for (const set of [many, results.many10k]) {
    if (!set || set.error) continue;
    const bars = Object.entries(set.results).map(([label, v]) => ({
      label,
      value: v.medianMs / 1000,
      fex: label.startsWith('fex'),
    }));
    if (!Object.keys(set.results).some((label) => label.startsWith('vsftpd')))
      bars.push({ label: 'vsftpd (FTP)', value: null, note: unavailable('vsftpd') });
    const best = set.best ? set.results[set.best].medianMs / 1000 : null;
    panels.push({
      title: `${set.files} files of 1 KiB in one session (fex ${x2(set.ratios.fexVsBest)}x stall-free FTP)`,
      unit: 'seconds, start-up included',
      bars,
      target: best ? { value: best * 0.5, label: 'target: 0.5x stall-free FTP' } : undefined,
    });
  }
  if (startup && !startup.error) {
    const r = startup.results;
    const empty = r['empty oclif CLI']?.medianMs;
    panels.push({
      title: `Start-up (fex dir ${x2(startup.ratios.fexDirVsEmptyOclifPerRound ?? startup.ratios.fexDirVsEmptyOclif)}x an empty oclif CLI, per round)`,
      unit: 'milliseconds, median',
      digits: 0,
      bars: Object.entries(r).map(([label, v]) => ({
        label,
        value: v.medianMs,
        fex: label.startsWith('fex'),
      })),
      target: empty ? { value: empty * 1.1, label: 'target: 1.1x empty oclif' } : undefined,
    });
  }
  if (concurrent && !concurrent.error) {
    const m = concurrent.medians;
    panels.push({
      title: `${concurrent.clients} concurrent clients, ${formatSize(concurrent.fileSize)} each (${m.mibPerS} MiB/s, server peak ${Math.round(m.serverPeakRssKiB / KiB)} MiB)`,
      unit: 'ms per client (connect to verified)',
      digits: 0,
      bars: [
        { label: 'fastest client', value: m.perClientMinMs, fex: true },
        { label: 'median client', value: m.perClientMedianMs, fex: true },
        { label: 'slowest client', value: m.perClientMaxMs, fex: true },
        { label: 'whole run (wall)', value: m.wallMs },
      ],
    });
  }
  const crowd = results.crowd;
  if (crowd && !crowd.error && crowd.perClientMs.median !== null) {
    panels.push({
      title: `${crowd.clients} connected, ${crowd.active} transferring ${formatSize(crowd.fileSize)} (slowest ${x2(crowd.slowestVsMedian)}x median, server peak ${Math.round(crowd.server.peakRssKiB / KiB)} MiB)`,
      unit: 'ms per transferring client (store, get, verified)',
      digits: 0,
      bars: [
        { label: 'fastest client', value: crowd.perClientMs.min, fex: true },
        { label: 'median client', value: crowd.perClientMs.median, fex: true },
        { label: 'slowest client', value: crowd.perClientMs.max, fex: true },
        { label: 'connecting all (wall)', value: crowd.connectMs },
      ],
      target: { value: crowd.perClientMs.median * 2, label: 'target: 2x median' },
    });
  }
  const mach = results.machine;
  return drawChart({
    title: 'fex vs its baselines on 127.0.0.1',
    subtitle: `${mach.nproc} cores, ${Math.round(mach.memoryMiB / 1024)} GiB RAM, Node ${mach.node}, ${results.date.slice(0, 10)}${results.options.quick ? ' (quick smoke run)' : ''}`,
    panels,
  });
}
