/** What a measurement yields: a worker's JSON report, and the statistics of repeated runs. */
import { median, round } from './util.mjs';

export function lastJson(text) {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : {};
}

export function summary(samples) {
  const ms = samples.map((s) => s.ms);
  return {
    runs: samples.length,
    medianMs: round(median(ms), 1),
    minMs: round(Math.min(...ms), 1),
    maxMs: round(Math.max(...ms), 1),
    timesMs: ms.map((v) => round(v, 1)),
    ...Object.fromEntries(
      ['clientPeakRssKiB', 'serverPeakRssKiB', 'clientCpuMs', 'serverCpuMs', 'rawMs', 'syncMs']
        .filter((key) => samples.some((s) => s[key] !== undefined && s[key] !== null))
        .map((key) => [key, round(median(samples.map((s) => s[key])), 1)]),
    ),
  };
}
