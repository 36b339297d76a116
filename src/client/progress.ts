/**
 * A one-line progress meter on stderr, only when stderr is a terminal (never in pipes or logs),
 * redrawn at most ten times a second.
 */
export function progressMeter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  if (!stream.isTTY) return { update: undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  const update = (done: number, total: number) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    shown = true;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    stream.write(`\r${label} ${percent}% (${done}/${total} bytes)\u001b[K`);
  };
  const done = () => {
    if (shown) stream.write('\r\u001b[K');
  };
  return { update, done };
}
