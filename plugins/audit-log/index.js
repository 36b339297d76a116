// @ts-check
/**
 * Audit log: every request, whoever sent it and however it ended, appended to a file as one JSON
 * line (time, handle, remote address, request type, file name, outcome, bytes, duration). When
 * the file would grow past `maxBytes` it is rotated: audit.log -> audit.log.1 -> ... -> .keep.
 *
 * Options (from the server's config file): file (default "audit.log", relative to the server's
 * working folder), maxBytes (default 10 MiB), keep (default 5 rotated files).
 *
 * Built only on fex's plugin SDK (the `fex` package), as a plugin outside this repository is.
 */
import { appendFile, rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { definePlugin, PLUGIN_API_VERSION } from 'fex';

/** @param {{ file?: string, maxBytes?: number, keep?: number }} [options] */
export default function auditLog(options = {}) {
  const file = resolve(options.file ?? 'audit.log');
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keep = options.keep ?? 5;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new Error('maxBytes must be a positive whole number');
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new Error('keep must be a positive whole number');

  let size = 0;
  /** Appends run one after another, so lines never interleave and rotation sees every byte. */
  let queue = Promise.resolve();

  async function rotate() {
    await rm(`${file}.${keep}`, { force: true });
    for (let n = keep - 1; n >= 1; n--)
      await rename(`${file}.${n}`, `${file}.${n + 1}`).catch(() => undefined);
    await rename(file, `${file}.1`).catch(() => undefined);
    size = 0;
  }

  /** @param {Record<string, unknown>} record */
  function append(record) {
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    queue = queue
      .then(async () => {
        if (size > 0 && size + bytes > maxBytes) await rotate();
        await appendFile(file, line, { mode: 0o600 });
        size += bytes;
      })
      .catch(() => undefined);
    return queue;
  }

  return definePlugin({
    name: 'audit-log',
    apiVersion: PLUGIN_API_VERSION,
    async setup() {
      size = (await stat(file).catch(() => ({ size: 0 }))).size;
    },
    hooks: {
      onResponse(ctx, request, outcome) {
        return append({
          time: new Date().toISOString(),
          handle: ctx.connection.handle ?? null,
          remote: ctx.connection.remote,
          type: request.type,
          ...(typeof request.name === 'string' ? { name: request.name } : {}),
          ok: outcome.ok,
          ...(outcome.code ? { code: outcome.code } : {}),
          bytesIn: outcome.bytesIn,
          bytesOut: outcome.bytesOut,
          ms: outcome.durationMs,
        });
      },
    },
    teardown() {
      return queue;
    },
  });
}
