/**
 * Polls `probe` until it gives a truthy value, and resolves with it: for states other processes
 * reach without announcing them (a part landing in the object store, a partial file on disk, an
 * event arriving over Redis). The bound only turns a hang into a failure that names what was
 * awaited; `everyMs` is how often to ask (cheap probes often, a request to a server less so).
 */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  { seconds = 60, everyMs = 100 }: { seconds?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`never saw: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
