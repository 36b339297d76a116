/** The targets, each with what was measured against it and whether it was met. */

export function targets(results) {
  const list = [];
  const { large, many, concurrent, startup } = results;
  if (large && !large.error) {
    for (const [op, key] of [
      ['store', 'storeVsPipe'],
      ['get', 'getVsPipe'],
    ])
      list.push({
        target: `${op} of ${large.sizeText}: at most 1.1x the bare Node pipe`,
        measured: large.ratios[key],
        met: large.ratios[key] !== null ? large.ratios[key] <= 1.1 : null,
      });
    const growth = results.memory?.growth;
    if (growth) {
      const worst = Math.max(
        ...['serverStore', 'serverGet', 'clientStore', 'clientGet'].map((k) => growth[k] ?? 0),
      );
      list.push({
        target: 'memory of server and client flat in the file size',
        measured: worst,
        met: worst <= 1.25,
        note: 'largest/smallest peak RSS across sizes; "flat" taken as at most 1.25x',
      });
    }
  }
  if (many && !many.error)
    list.push({
      target: `${many.files} files of 1 KiB in one session: faster than one curl session on vsftpd`,
      measured: many.ratios.fexVsFtp,
      met: many.ratios.fexVsFtp !== null ? many.ratios.fexVsFtp < 1 : null,
      note: many.shellAvailable
        ? 'fex shell, piped'
        : 'fex shell missing: Session API in one process',
    });
  if (concurrent && !concurrent.error)
    list.push({
      target: `${concurrent.clients} concurrent clients: throughput and server RSS reported, no client starves`,
      measured: concurrent.medians.perClientMaxMs,
      met: concurrent.medians.failed === 0,
      note: `all clients finished and verified; per-client max ${concurrent.medians.perClientMaxMs} ms vs median ${concurrent.medians.perClientMedianMs} ms`,
    });
  if (startup && !startup.error)
    list.push({
      target: 'one-shot fex dir: at most 1.2x an empty oclif CLI',
      measured: startup.ratios.fexDirVsEmptyOclif,
      met:
        startup.ratios.fexDirVsEmptyOclif !== null
          ? startup.ratios.fexDirVsEmptyOclif <= 1.2
          : null,
    });
  return list;
}
