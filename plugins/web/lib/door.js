// @ts-check
/**
 * The page's way into fex: in-process connections from the SDK (`server.connect`), served like a
 * TCP client's, so every action passes the handler table, the name rules, ownership, limits,
 * quota and every other plugin's hooks. Nothing here touches the storage.
 */

/**
 * @typedef {import('fex').ServerServices} ServerServices
 * @typedef {import('fex').InProcessConnection} InProcessConnection
 * @typedef {{ address: string, port?: number }} Visitor
 */

export class Door {
  /** @param {ServerServices} server */
  constructor(server) {
    this.server = server;
  }

  /** @param {Visitor} visitor */
  open(visitor) {
    return this.server.connect({ ...visitor, client: 'fex-web' });
  }

  /**
   * A connection acting as `handle`, proven by its credential.
   * @param {Visitor} visitor @param {string} handle @param {string} credential
   */
  async as(visitor, handle, credential) {
    const connection = await this.open(visitor);
    try {
      await connection.request('login', { handle, credential });
      return connection;
    } catch (error) {
      void connection.close();
      throw error;
    }
  }

  /**
   * Every file, page after page of `dir`.
   * @param {InProcessConnection} connection
   * @returns {Promise<import('fex').FileEntry[]>}
   */
  async list(connection) {
    /** @type {import('fex').FileEntry[]} */
    const files = [];
    /** @type {string | undefined} */
    let after;
    do {
      const { header, body } = await connection.request(
        'dir',
        after === undefined ? {} : { after },
      );
      files.push(...(await jsonLines(body)));
      after = typeof header.next === 'string' ? header.next : undefined;
    } while (after !== undefined);
    return files;
  }

  /**
   * The entry of one file, by its exact name (a `dir` page of one, from that name on).
   * @param {InProcessConnection} connection @param {string} name
   */
  async listed(connection, name) {
    const { body } = await connection.request('dir', { prefix: name, limit: 1 });
    /** @type {import('fex').FileEntry[]} */
    const entries = await jsonLines(body);
    return entries.filter((entry) => entry.name === name);
  }

  /** Whether a request type is served (the messaging plugin's `broadcast`, say). */
  serves(/** @type {string} */ type) {
    return this.server.types().includes(type);
  }
}

/** @param {import('node:stream').Readable | undefined} body */
async function jsonLines(body) {
  if (!body) return [];
  const chunks = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}
