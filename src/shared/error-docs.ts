/**
 * The words docs/cli.md and docs/protocol.md print beside ERROR_TABLE: when each code arises, and
 * what each exit status stands for. Typed by the table's own keys, so a code added there without
 * its line here does not compile. `npm run docs` writes the tables (scripts/write-docs.mjs), and
 * test/unit/docs-drift.test.ts fails when the committed ones differ.
 */
import type { ErrorCode, EXIT } from './errors.js';

/** When each code arises, in a few words (the "when" column). */
export const ERROR_WHEN: Readonly<Record<ErrorCode, string>> = {
  E_BAD_FRAME:
    'a malformed frame, a request without `id`, a frame out of sequence inside a store, or (at the client) an answer that breaks the protocol; the connection is closed',
  E_BAD_REQUEST:
    'a request the server cannot accept as sent (before `hello`, with a body, fields not matching the schema), or a `data` frame of the wrong length or offset',
  E_UNKNOWN_TYPE: 'no handler serves this request type',
  E_VERSION: '`hello` with a protocol version the server does not speak',
  E_NOT_REGISTERED: '`store`, `dir` or `get` on a connection without a handle',
  E_ALREADY_REGISTERED: '`register`, or `login` as another handle, on a connection that has one',
  E_HANDLE_TAKEN: 'the handle exists on the server (without regard to case)',
  E_BAD_HANDLE: 'the handle breaks the handle rules',
  E_HANDLE_TOO_LONG:
    'the handle is longer than this server accepts (`fex serve --max-handle-length`)',
  SERVER_CHANGED:
    'the server at the address sends another `serverId` than the server that issued the credential held for the handle; the credential is not sent',
  E_BAD_CREDENTIAL: '`login` with a wrong credential or an unknown handle',
  E_BAD_NAME: 'the file name breaks the name rules',
  E_NAME_CLASH: 'the name differs only in case or Unicode form from a stored name',
  E_NOT_FOUND: 'no file of that name on the server',
  E_NOT_OWNER:
    'the name belongs to another handle (or, with owner `the server operator`, to nobody): a store, delete or rename by another handle',
  E_NAME_TAKEN: '`rename` onto a name that already exists (a rename never replaces a file)',
  E_BAD_EXPIRY:
    "`store --expires` longer than the server's `--max-age`, or never where a maximum is set",
  E_BAD_OPERATOR_KEY: "`operator-delete` with a key other than the server's `.fex/operator-key`",
  E_TOO_LARGE: "the announced size is above the server's limit",
  E_DISK_FULL: "the server's disk or quota is full",
  E_TOO_MANY_FILES:
    'a store of a new name would pass the most files the server holds, or one handle may own',
  E_CHECKSUM: 'the received bytes do not have the announced SHA-256',
  E_SIZE: 'the received bytes are not the announced size',
  E_BUSY:
    'the server is at its connection limit, in all, from this address, or for this handle (every one of its connections busy)',
  E_SHUTTING_DOWN: 'the server is stopping (SIGINT/SIGTERM)',
  E_UNAVAILABLE:
    'the server cannot reach a service it runs on: Redis for `--state redis://...` ("shared state": down, restarting, unreachable, or slower than 5 s) or the bucket of `--storage s3://...` ("object store": connection refused, reset or timed out, or a 5xx such as 503 SlowDown after the SDK\'s retries); the same request works once it is back (docs/scaling.md, docs/storage.md)',
  E_TIMEOUT: 'the server closed the connection after a timeout',
  E_INTERNAL: 'a handler failed unexpectedly; the server stays up',
  CONNECT_FAILED: 'no fex server answers at that address (also: connect timeout of 10 s)',
  TLS_FAILED: 'the TLS handshake with a `fexs://` server failed (certificate not trusted, ...)',
  NOT_CONNECTED:
    'no server: no `--server`, `FEX_SERVER` or remembered server (`leave`: none remembered)',
  ALREADY_CONNECTED: 'shell: `/join` while joined',
  SERVER_SILENT:
    "the server sent no answer for `FEX_TIMEOUT` seconds (default 60) while one was due (events do not count), nothing in the middle of a message, less than 16 KiB of an answer's body, or read nothing of an upload for that long; raised by the client, never sent",
  CONNECTION_LOST:
    'the connection ended in the middle of a request (running the same `store` or `get` again resumes it)',
  CANCELLED: 'shell: Ctrl-C cancelled a transfer',
  INTERRUPTED:
    'one-shot `store` or `get`: Ctrl-C; a second line says what was kept and how to resume',
  NO_CREDENTIAL:
    '`login` of a handle this account holds no credential for on that server (nothing is sent)',
  NO_HANDLE: 'no `--handle`, `FEX_HANDLE` or remembered handle for that server',
  BAD_SERVER: 'the server is not `host:port`',
  BAD_DURATION: 'a duration (`--expires`, `--max-age`) that is not a whole number and a unit',
  NO_OPERATOR_KEY: "`fex operator delete` cannot read the server's operator key (`--dir`)",
  LOCAL_NOT_FOUND: 'the local file to store does not exist or is not a regular file',
  LOCAL_IO: 'a local file cannot be read or written',
  UNSAFE_NAME:
    'the server sent a name that breaks the name rules, a name other than the one asked for or sent, or an owner that is not a handle',
  COMMAND_NOT_FOUND: 'an unknown command',
  BAD_PARAMS: 'missing, extra or malformed arguments or flags',
  SERVE_FAILED: '`fex serve` cannot start',
  UNEXPECTED: 'anything else',
};

/** What each exit status stands for (the "kind of failure" column of the exit table). */
export const EXIT_KINDS: Readonly<Record<keyof typeof EXIT, string>> = {
  ok: 'success',
  failure:
    'any other failure: a local file cannot be read or written, the server failed internally, the server cannot start, an unexpected failure',
  usage:
    'usage error: unknown command, missing, extra or malformed arguments or flags, a bad server address or handle',
  connection:
    'no connection: no server known, cannot connect, connection lost, server full, shutting down or timed out, server silent',
  notFound: "file not found (the local file for `store`, the server's for `get`)",
  auth: 'identity: no handle, handle taken, credential refused, not registered, a different server at the address of a held credential',
  refused: 'refused by the rules: bad file name, case clash, not the owner',
  limit: 'a limit: file too large, server disk full',
  integrity: 'a transfer failed its size or checksum check; nothing was kept',
  protocol: 'the other side broke the protocol, or speaks another version, or lacks a request type',
  plugin:
    "the server refused with an error code this client does not know: a server plugin's own (e.g. `E_QUOTA_EXCEEDED`); the server's message is shown",
  interrupted:
    'Ctrl-C (SIGINT) stopped a one-shot `store` or `get`; what was transferred is kept for a resume',
};
