// @ts-check
/**
 * Quota: each handle may keep at most `quota` bytes on the server, and no file may exceed
 * `maxFileSize`. A store that would break either is refused in the onRequest hook, before the
 * server answers `continue`, so not one byte of it is written. Replacing one's own file counts
 * only the difference. Stores still in flight count too: a client may send many stores back to
 * back (or from several connections), and none of them is on disk when the next one is checked.
 *
 * Options (from the server's config file): quota, maxFileSize: bytes, or text such as "100MiB".
 *
 * Built only on fex's plugin SDK (the `fex` package), as a plugin outside this repository is.
 */
import { definePlugin, parseSize, PLUGIN_API_VERSION } from 'fex';

/**
 * Bytes, or a size as operators write them ("100MiB"), with fex's own parser.
 * @param {string} name
 * @param {unknown} value
 * @returns {number}
 */
function bytes(name, value) {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const parsed = typeof value === 'string' ? parseSize(value) : undefined;
  if (parsed === undefined)
    throw new Error(`${name} must be a number of bytes or a size such as "100MiB"`);
  return parsed;
}

/** @param {{ quota?: number | string, maxFileSize?: number | string }} [options] */
export default function quota(options = {}) {
  const limit = options.quota === undefined ? Infinity : bytes('quota', options.quota);
  const maxFileSize =
    options.maxFileSize === undefined ? Infinity : bytes('maxFileSize', options.maxFileSize);

  /** Bytes of stores admitted and not yet answered: handle -> (connection:request -> size). */
  /** @type {Map<string, Map<string, number>>} */
  const inFlight = new Map();
  /** @param {import('fex').RequestContext} ctx @param {import('fex').Header} request */
  const key = (ctx, request) => `${ctx.connection.id}:${String(request.id)}`;

  return definePlugin({
    name: 'quota',
    apiVersion: PLUGIN_API_VERSION,
    hooks: {
      async onRequest(ctx, request) {
        if (request.type !== 'store') return;
        const size = /** @type {number} */ (request.size);
        const handle = /** @type {string} */ (ctx.connection.handle);
        if (size > maxFileSize)
          throw ctx.server.fail(
            'E_QUOTA_FILE_SIZE',
            `File too large: ${size} bytes; files on this server may be at most ${maxFileSize} bytes.`,
          );
        let used = 0;
        for (const file of await ctx.server.files.list())
          if (file.owner === handle && file.name !== request.name) used += file.size;
        const pending = inFlight.get(handle) ?? new Map();
        for (const bytes of pending.values()) used += bytes;
        if (used + size > limit)
          throw ctx.server.fail(
            'E_QUOTA_EXCEEDED',
            `Quota exceeded: ${handle} keeps ${used} of ${limit} bytes here, and this file needs ${size}.`,
          );
        inFlight.set(handle, pending.set(key(ctx, request), size));
      },
      onResponse(ctx, request) {
        const pending = inFlight.get(/** @type {string} */ (ctx.connection.handle));
        if (!pending?.delete(key(ctx, request)) || pending.size > 0) return;
        inFlight.delete(/** @type {string} */ (ctx.connection.handle));
      },
    },
  });
}
