// @ts-check
/**
 * The HTTP API and the page's files. Every action is a request through a fex connection acting
 * as the session's handle (door.js); the API adds no rule of its own and skips none of fex's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Server as TusServer } from '@tus/server';
import { download } from './download.js';
import { openStream, sendEvent } from './events.js';
import { crossSite, secure } from './headers.js';
import { FexUploadStore } from './upload-store.js';

/** The page's files, built by `npm run build` into public/. */
const PUBLIC = new URL('../public/', import.meta.url);
const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};
const MAX_JSON = 16 * 1024;

/** HTTP status of a fex refusal, by its exit status (docs/cli.md). */
const STATUS = { 2: 400, 3: 503, 4: 404, 5: 403, 6: 403, 7: 413, 8: 422, 9: 400, 10: 403 };

/** @param {unknown} error */
function refusal(error) {
  const fex = /** @type {{ code?: unknown, message?: unknown, exit?: unknown }} */ (error);
  if (typeof fex?.code === 'string' && typeof fex.message === 'string') {
    const status = STATUS[/** @type {keyof typeof STATUS} */ (Number(fex.exit))] ?? 400;
    return { status, code: fex.code, message: fex.message };
  }
  return { status: 500, code: 'E_INTERNAL', message: 'The web page met an unexpected failure.' };
}

/**
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 * @typedef {import('./sessions.js').Session} Session
 */

/** @param {Res} res @param {number} status @param {unknown} body */
function json(res, status, body) {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

/** @param {Res} res @param {unknown} error */
function fail(res, error) {
  const { status, code, message } = refusal(error);
  if (!res.headersSent) json(res, status, { error: { code, message } });
  else res.destroy();
}

/** @param {Req} req @returns {Promise<Record<string, unknown>>} */
async function readJson(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_JSON) throw badRequest();
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // answered below
  }
  throw badRequest();
}

function badRequest() {
  return {
    code: 'E_BAD_REQUEST',
    message: 'Command parameters do not match or is not allowed.',
    exit: 2,
  };
}

/** @param {unknown} value */
const text = (value) => (typeof value === 'string' ? value : '');

/**
 * @param {object} deps
 * @param {import('fex').ServerServices} deps.server
 * @param {import('./door.js').Door} deps.door
 * @param {import('./sessions.js').Sessions} deps.sessions
 */
export function createApp({ server, door, sessions }) {
  const uploads = new FexUploadStore(door);
  const heartbeatMs = Math.max(1000, Math.min(15_000, (server.limits.transferTimeout || 30) * 500));
  const tus = new TusServer({
    path: '/api/uploads',
    datastore: uploads,
    relativeLocation: true,
    allowedOrigins: () => false,
    namingFunction() {
      const id = randomBytes(16).toString('hex');
      const owner = uploader.getStore();
      if (owner) uploads.name(id, owner);
      return id;
    },
    async onResponseError(_req, error) {
      if (error instanceof Error && 'code' in error)
        return { status_code: refusal(error).status, body: error.message };
      return undefined;
    },
  });
  /**
   * The owner of the tus request being served (tus's request is not Node's: the session travels
   * beside it, not in it).
   * @type {AsyncLocalStorage<import('./upload-store.js').Owner>}
   */
  const uploader = new AsyncLocalStorage();

  /** @param {Req} req */
  const visitor = (req) => ({
    address: req.socket.remoteAddress ?? '?',
    port: req.socket.remotePort,
  });

  /**
   * The session's own fex connection, opened (and signed in) on first use, again after an idle
   * timeout closed it; its events go to the session's pages.
   * @param {Session} session @param {Req} req
   */
  function connection(session, req) {
    if (!session.connection) {
      const opening = door.as(visitor(req), String(session.handle), String(session.credential));
      session.connection = opening;
      opening.then(
        (open) => {
          open.onEvent((event) => tell(session, event));
          open.onClose((reason) => {
            if (session.connection === opening) session.connection = undefined;
            for (const stream of session.streams)
              sendEvent(stream, 'closed', { code: reason.code, message: reason.message });
            // Kept live for open pages when only the idle timeout closed it.
            if (reason.code === 'E_TIMEOUT' && session.streams.size > 0 && session.handle)
              void connection(session, req).catch(() => undefined);
          });
        },
        () => {
          if (session.connection === opening) session.connection = undefined;
        },
      );
    }
    return session.connection;
  }

  /** @param {Res} res @param {Session} session @param {Record<string, unknown>} [extra] */
  function describe(res, session, extra = {}) {
    json(res, 200, {
      handle: session.handle ?? null,
      csrf: session.csrf,
      messaging: door.serves('broadcast') && door.serves('msg'),
      maxFileSize: server.limits.maxFileSize,
      ...extra,
    });
  }

  /**
   * Signs a session in as the identity fex accepted: a fresh session id, the old one dropped.
   * @param {Res} res @param {Session} old @param {string} handle @param {string} credential
   * @param {import('fex').InProcessConnection} open
   */
  function signIn(res, old, handle, credential, open) {
    end(old);
    const session = sessions.create();
    Object.assign(session, { handle, credential, connection: undefined });
    res.setHeader('Set-Cookie', sessions.cookie(session));
    void open.close();
    return session;
  }

  /** Passes an event to the session's open pages. @param {Session} session @param {unknown} event */
  function tell(session, event) {
    for (const stream of session.streams) sendEvent(stream, 'fex', event);
  }

  /** @param {Session} session */
  function end(session) {
    sessions.drop(session);
    const streams = [...session.streams];
    session.streams.clear();
    for (const stream of streams) stream.end();
    void session.connection?.then((open) => open.close()).catch(() => undefined);
  }

  /** @type {Record<string, (req: Req, res: Res, session: Session) => Promise<void>>} */
  const api = {
    async 'GET /api/session'(_req, res, session) {
      describe(res, session);
    },
    async 'POST /api/claim'(req, res, session) {
      const body = await readJson(req);
      const open = await door.open(visitor(req));
      try {
        const { header } = await open.request('register', { handle: text(body.handle) });
        const handle = String(header.handle);
        const credential = String(header.credential);
        describe(res, signIn(res, session, handle, credential, open), { credential });
      } catch (error) {
        void open.close();
        throw error;
      }
    },
    async 'POST /api/login'(req, res, session) {
      const body = await readJson(req);
      const open = await door.open(visitor(req));
      try {
        const { header } = await open.request('login', {
          handle: text(body.handle),
          credential: text(body.credential),
        });
        describe(res, signIn(res, session, String(header.handle), text(body.credential), open));
      } catch (error) {
        void open.close();
        throw error;
      }
    },
    async 'POST /api/logout'(_req, res, session) {
      end(session);
      res.setHeader('Set-Cookie', sessions.expiredCookie());
      json(res, 200, {});
    },
    async 'GET /api/files'(req, res, session) {
      json(res, 200, { files: await door.list(await connection(session, req)) });
    },
    async 'GET /api/events'(req, res, session) {
      await connection(session, req);
      openStream(res, heartbeatMs);
      session.streams.add(res);
      res.once('close', () => session.streams.delete(res));
    },
    async 'POST /api/broadcast'(req, res, session) {
      const body = await readJson(req);
      const open = await connection(session, req);
      const { header } = await open.request('broadcast', { text: text(body.text) });
      json(res, 200, { line: header.line });
    },
    async 'POST /api/delete'(req, res, session) {
      const body = await readJson(req);
      const open = await connection(session, req);
      const { header } = await open.request('delete', { name: text(body.name) });
      // fex tells every connection but the one that asked: this session's other pages hear here.
      tell(session, {
        event: 'deleted',
        handle: session.handle,
        name: header.name,
        time: header.at,
      });
      json(res, 200, { name: header.name });
    },
    async 'POST /api/rename'(req, res, session) {
      const body = await readJson(req);
      const open = await connection(session, req);
      const { header } = await open.request('rename', { name: text(body.name), to: text(body.to) });
      const renamed = { name: header.from, to: header.name, time: header.at };
      tell(session, { event: 'renamed', handle: session.handle, ...renamed });
      json(res, 200, { from: header.from, name: header.name });
    },
    async 'POST /api/msg'(req, res, session) {
      const body = await readJson(req);
      const open = await connection(session, req);
      const { header } = await open.request('msg', { to: text(body.to), text: text(body.text) });
      json(res, 200, { line: header.line });
    },
  };

  /** @param {Req} req @param {Res} res @param {Session} session @param {string} path */
  async function files(req, res, session, path) {
    const name = decodeURIComponent(path.slice('/api/files/'.length));
    const open = await door.as(visitor(req), String(session.handle), String(session.credential));
    try {
      await download(req, res, open, door, name);
    } finally {
      void open.close();
    }
  }

  /** @param {Req} req @param {Res} res @param {Session} session */
  async function upload(req, res, session) {
    const id = /^\/api\/uploads\/([0-9a-f]+)$/.exec(
      new URL(req.url ?? '/', 'http://x').pathname,
    )?.[1];
    const owner = id ? uploads.owner(id) : undefined;
    if (id && (!owner || owner.handle !== session.handle))
      return json(res, 404, { error: { code: 'E_NOT_FOUND', message: 'No such upload here.' } });
    const uploading = {
      handle: String(session.handle),
      credential: String(session.credential),
      visitor: visitor(req),
    };
    await uploader.run(uploading, () => tus.handle(req, res));
  }

  /** @param {Req} req @param {Res} res @param {string} path */
  async function page(req, res, path) {
    const [file, type] = /** @type {[string, string]} */ (
      STATIC[/** @type {keyof typeof STATIC} */ (path)]
    );
    const body = await readFile(new URL(file, PUBLIC));
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** @param {Req} req @param {Res} res */
  async function handle(req, res) {
    secure(res);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      if ((req.method === 'GET' || req.method === 'HEAD') && Object.hasOwn(STATIC, path))
        return await page(req, res, path);
      let session = sessions.find(req);
      if (!session && req.method === 'GET' && path === '/api/session') {
        session = sessions.create();
        res.setHeader('Set-Cookie', sessions.cookie(session));
      }
      const refused = crossSite(req, session);
      if (refused) return json(res, 403, { error: { code: 'E_CSRF', message: refused } });
      if (!session)
        return json(res, 401, {
          error: { code: 'E_NO_SESSION', message: 'Refused: this page is out of date; reload it.' },
        });
      const route = api[`${req.method} ${path}`];
      if (
        route &&
        (path === '/api/session' ||
          path === '/api/claim' ||
          path === '/api/login' ||
          session.handle)
      )
        return await route(req, res, session);
      if (!session.handle)
        return json(res, 401, {
          error: { code: 'E_NOT_REGISTERED', message: 'Please register a handle first.' },
        });
      if ((req.method === 'GET' || req.method === 'HEAD') && path.startsWith('/api/files/'))
        return await files(req, res, session, path);
      if (path === '/api/uploads' || path.startsWith('/api/uploads/'))
        return await upload(req, res, session);
      json(res, 404, { error: { code: 'E_NOT_FOUND', message: 'Nothing here.' } });
    } catch (error) {
      fail(res, error);
    }
  }

  return {
    handle,
    /** Ends what the page holds open: uploads in flight, sessions' connections and streams. */
    close() {
      uploads.close();
      for (const session of sessions.signedIn()) end(session);
    },
  };
}
