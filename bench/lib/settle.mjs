/**
 * Waits for a quiet machine before each measurement. One shared record of how long it waited
 * goes into results.json (machineLoad), so it lives here and not in each section.
 */
import { quiet, sleep, waitQuiet } from './util.mjs';

export const quietness = { maxWaitMs: 30_000, checks: 0, waitedMs: 0, stillBusy: 0, busy: [] };

/**
 * Lets the machine settle between measurements: flushes other dirty pages, pauses, and waits
 * (bounded) for other users' CPU bursts to pass. How long it waited is part of the results.
 */
export async function settle(ms = 300) {
  if (quietness.maxWaitMs === 0) return sleep(20);
  quiet('sync', []);
  await sleep(ms);
  const seen = await waitQuiet(quietness.maxWaitMs);
  quietness.checks++;
  quietness.waitedMs += seen.waitedMs;
  if (seen.busy !== null) quietness.busy.push(seen.busy);
  if (seen.busy !== null && seen.busy > 0.3) quietness.stillBusy++;
}
