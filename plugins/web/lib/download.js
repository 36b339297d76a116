// @ts-check
/**
 * Downloads: `get` through a connection of the signed-in handle, streamed to the browser as an
 * attachment (never rendered in this origin), with HTTP Range so a browser resumes a cut download.
 */
import { once } from 'node:events';

/**
 * `bytes=a-b`, `bytes=a-`, `bytes=-n` of a file of `size` bytes; null when unsatisfiable,
 * undefined for no (or an unsupported multi-part) range.
 * @param {string | undefined} header @param {number} size
 * @returns {{ start: number, end: number } | null | undefined}
 */
export function parseRange(header, size) {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1], match[2]];
  let start;
  let end;
  if (first === '') {
    start = Math.max(0, size - Number(last));
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start > end || start >= size) return null;
  return { start, end };
}

/** `attachment`, with the name as RFC 6266 says: ASCII fallback and the exact UTF-8 name. */
export function disposition(/** @type {string} */ name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {import('fex').InProcessConnection} connection  acting as the visitor's handle
 * @param {import('./door.js').Door} door
 * @param {string} name
 */
export async function download(req, res, connection, door, name) {
  let range;
  /** @type {Record<string, unknown>} */
  let fields = { name };
  if (req.headers.range !== undefined) {
    const [entry] = await door.listed(connection, name);
    if (entry) {
      const fresh = ifRangeHolds(req.headers['if-range'], entry);
      range = fresh ? parseRange(req.headers.range, entry.size) : undefined;
      if (range === null) {
        res.writeHead(416, { 'Content-Range': `bytes */${entry.size}` });
        res.end();
        return;
      }
      if (range && range.start > 0) fields = { name, offset: range.start, sha256: entry.sha256 };
    }
  }
  const { header, body } = await connection.request('get', fields);
  const size = Number(header.size);
  const from = Number(header.offset);
  // The file changed between the listing and the `get`: the whole of the new one.
  if (range && from !== range.start) range = undefined;
  const end = range ? range.end : size - 1;
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': disposition(String(header.name)),
    'Content-Length': String(Math.max(0, end - from + 1)),
    'Accept-Ranges': 'bytes',
    ETag: `"${String(header.sha256)}"`,
    'Last-Modified': new Date(Number(header.time)).toUTCString(),
    'Cache-Control': 'private, no-store',
  };
  if (range) {
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${from}-${end}/${size}` });
  } else res.writeHead(200, headers);
  if (!body) return void res.end();
  if (req.method === 'HEAD') {
    body.destroy();
    return void res.end();
  }
  await send(body, res, end - from + 1);
}

/**
 * The first `limit` bytes of `body` to `res`, with backpressure; the rest of the body is dropped
 * (a range that stops before the end of the file), the connection then reads its next answer.
 * @param {import('node:stream').Readable} body
 * @param {import('node:http').ServerResponse} res
 * @param {number} limit
 */
async function send(body, res, limit) {
  let left = limit;
  try {
    for await (const chunk of body) {
      const piece = /** @type {Buffer} */ (chunk).subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) await once(res, 'drain');
      if (left <= 0) break;
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    body.destroy();
  }
}

/** @param {string | string[] | undefined} ifRange @param {import('fex').FileEntry} entry */
function ifRangeHolds(ifRange, entry) {
  if (typeof ifRange !== 'string') return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === `"${entry.sha256}"`;
  return Date.parse(ifRange) >= Math.floor(entry.time / 1000) * 1000;
}
