// @ts-check
/**
 * The tus data store of the page's uploads, on fex's own `store` in steps (docs/protocol.md):
 * creating a tus upload sends `store` (the name rules, size limit, quota and ownership refuse it
 * there, in the CLI's words); each PATCH feeds the open `data` frame; the last byte sends
 * `commit` with the SHA-256 of the whole file. A PATCH cut off by a reload leaves the `data`
 * frame open, so the next PATCH goes on from the bytes already sent; if the fex connection has
 * ended meanwhile (a transfer timeout), a new `store` is offered the bytes the server kept and
 * goes on from them when they are the ones this store hashed, else starts again from 0.
 */
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { DataStore, Upload } from '@tus/server';

/**
 * @typedef {object} Owner
 * @property {string} handle
 * @property {string} credential
 * @property {import('./door.js').Visitor} visitor
 *
 * @typedef {object} Transfer  one open `store` exchange
 * @property {import('fex').InProcessConnection} connection
 * @property {number} id  the `store` request's id
 * @property {PassThrough} data  the open `data` frame's body
 * @property {Promise<void>} sent  settles when the `data` frame has been handed over
 *
 * @typedef {object} State
 * @property {Owner} owner
 * @property {string} name
 * @property {number} size
 * @property {number} offset  bytes accepted and hashed
 * @property {import('node:crypto').Hash} hash
 * @property {Transfer | undefined} transfer
 * @property {import('fex').Header | undefined} stored  the `ok` answer, once committed
 * @property {number} touched  when a request last used it (ms)
 */

/**
 * How long an upload is remembered after its last request: a finished one, for a late HEAD; an
 * abandoned one, for a page that comes back to resume it.
 */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

export class FexUploadStore extends DataStore {
  /** @type {Map<string, State>} */
  #uploads = new Map();
  /** Owners of ids named but not yet created (tus names an upload before creating it). */
  /** @type {Map<string, Owner>} */
  #named = new Map();

  /** @param {import('./door.js').Door} door */
  constructor(door) {
    super();
    this.door = door;
    this.extensions = ['creation', 'termination'];
    this.sweeper = setInterval(() => this.#forget(Date.now() - FORGET_AFTER_MS), 60_000);
    this.sweeper.unref();
  }

  /** Forgets uploads untouched since `before`, closing what they still hold open. */
  #forget(/** @type {number} */ before) {
    for (const [id, state] of this.#uploads) if (state.touched < before) void this.remove(id);
  }

  /** Closes every upload still open (the plugin's teardown). */
  close() {
    clearInterval(this.sweeper);
    this.#forget(Infinity);
  }

  /** @param {string} id @param {Owner} owner */
  name(id, owner) {
    this.#named.set(id, owner);
    // Named and never created (a refused POST): forgotten soon.
    setTimeout(() => this.#named.delete(id), 60_000).unref();
  }

  /** @param {string} id */
  owner(id) {
    return this.#uploads.get(id)?.owner ?? this.#named.get(id);
  }

  /** The `store` answer of a finished upload, for the page. @param {string} id */
  stored(id) {
    return this.#uploads.get(id)?.stored;
  }

  /** @param {Upload} upload */
  async create(upload) {
    const owner = this.#named.get(upload.id);
    this.#named.delete(upload.id);
    const name = upload.metadata?.filename;
    if (!owner || typeof name !== 'string' || upload.size === undefined)
      throw { status_code: 400, body: 'An upload needs a file name and a size.' };
    /** @type {State} */
    const state = {
      owner,
      name,
      size: upload.size,
      offset: 0,
      hash: createHash('sha256'),
      transfer: undefined,
      stored: undefined,
      touched: Date.now(),
    };
    // Refused here, before the page sends a byte: the same checks as `fex store`.
    await this.#begin(state);
    this.#uploads.set(upload.id, state);
    return upload;
  }

  /** @param {string} id */
  async getUpload(id) {
    const state = this.#uploads.get(id);
    if (!state) throw { status_code: 404, body: 'No such upload here: start it again.' };
    state.touched = Date.now();
    if (!state.stored && !state.transfer) await this.#begin(state);
    return new Upload({
      id,
      size: state.size,
      offset: state.stored ? state.size : state.offset,
      metadata: { filename: state.name },
    });
  }

  /**
   * @param {import('node:stream').Readable} stream
   * @param {string} id
   * @param {number} offset
   */
  async write(stream, id, offset) {
    const state = this.#uploads.get(id);
    if (!state) throw { status_code: 404, body: 'No such upload here: start it again.' };
    if (offset !== state.offset) throw { status_code: 409, body: 'Upload-Offset differs.' };
    state.touched = Date.now();
    if (!state.transfer) await this.#begin(state);
    const transfer = /** @type {Transfer} */ (state.transfer);
    try {
      for await (const piece of stream) {
        const chunk = /** @type {Buffer} */ (piece).subarray(0, state.size - state.offset);
        if (chunk.length === 0 || transfer.data.destroyed) break;
        state.hash.update(chunk);
        state.offset += chunk.length;
        if (!transfer.data.write(chunk)) await drained(transfer.data);
      }
    } catch {
      // The page went away mid-PATCH: what arrived is kept, the `data` frame stays open.
    }
    if (state.offset === state.size) await this.#commit(state, transfer);
    return state.offset;
  }

  /** @param {string} id */
  async remove(id) {
    const state = this.#uploads.get(id);
    this.#uploads.delete(id);
    if (state?.transfer) {
      state.transfer.data.destroy();
      await state.transfer.connection.close();
    }
  }

  /**
   * Opens the `store`: on a new connection as the owner, told the bytes the server already
   * holds of an earlier try; goes on from them only if they are the ones hashed here.
   * @param {State} state
   */
  async #begin(state) {
    const { handle, credential, visitor } = state.owner;
    const connection = await this.door.as(visitor, handle, credential);
    try {
      const { id, header } = await connection.request('store', {
        name: state.name,
        size: state.size,
      });
      const held = typeof header.offset === 'number' ? header.offset : 0;
      const from = held > 0 && held === state.offset ? held : 0;
      if (from === 0) {
        state.offset = 0;
        state.hash = createHash('sha256');
      }
      const data = new PassThrough();
      const sent = connection.send(
        id,
        'data',
        { offset: from },
        {
          size: state.size - from,
          chunks: data,
        },
      );
      sent.catch(() => undefined);
      const transfer = { connection, id, data, sent };
      state.transfer = transfer;
      connection.onClose(() => {
        if (state.transfer === transfer) state.transfer = undefined;
        data.destroy();
      });
    } catch (error) {
      void connection.close();
      throw error;
    }
  }

  /** @param {State} state @param {Transfer} transfer */
  async #commit(state, transfer) {
    transfer.data.end();
    try {
      await transfer.sent;
      await transfer.connection.send(transfer.id, 'commit', {
        sha256: state.hash.digest('hex'),
      });
      state.stored = (await transfer.connection.next(transfer.id)).header;
    } finally {
      state.transfer = undefined;
      void transfer.connection.close();
    }
  }
}

/** Resolves when `stream` wants more, or is gone. @param {PassThrough} stream */
function drained(stream) {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve(undefined);
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
