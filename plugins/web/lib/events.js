// @ts-check
/**
 * Live updates by Server-Sent Events: each signed-in session keeps one fex connection open as its
 * handle, and every event frame fex sends it (another user's upload, from the CLI, the shell or
 * another page; the messaging plugin's messages) goes to the session's open pages as it comes.
 */

/**
 * @param {import('node:http').ServerResponse} stream
 * @param {string} type
 * @param {unknown} data
 */
export function sendEvent(stream, type, data) {
  if (stream.writableEnded || stream.destroyed) return;
  stream.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Opens the event stream of a request.
 * @param {import('node:http').ServerResponse} res
 * @param {number} heartbeatMs  a comment this often, so idle timeouts see a live stream
 */
export function openStream(res, heartbeatMs) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  });
  res.on('error', () => undefined);
  res.write(': fex\n\n');
  const timer = setInterval(() => {
    if (!res.writableEnded) res.write(': alive\n\n');
  }, heartbeatMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
