/** The success lines of SPEC.md, word for word, in one place. */
import type { FileEntry } from '../protocol/constants.js';
import { formatTimestamp } from '../shared/time.js';
import { formatBytes } from './human-units.js';

/** Who did it, in event lines where no handle did: in parentheses, which no handle has. */
const OPERATOR = '(operator)';
const SERVER = '(server)';

export const messages = {
  joined: () => 'Connection to the File Exchange Server is successful!',
  left: () => 'Connection closed. Thank you!',
  welcome: (handle: string) => `Welcome ${handle}!`,
  uploaded: (handle: string, name: string, time: number) =>
    `${handle}<${formatTimestamp(time)}>: Uploaded ${name}`,
  /** `handle` undefined: the server's operator (`fex operator delete`). */
  deleted: (handle: string | undefined, name: string, time: number) =>
    `${handle ?? OPERATOR}<${formatTimestamp(time)}>: Deleted ${name}`,
  renamed: (handle: string, from: string, to: string, time: number) =>
    `${handle}<${formatTimestamp(time)}>: Renamed ${from} to ${to}`,
  expired: (name: string, time: number) => `${SERVER}<${formatTimestamp(time)}>: Expired ${name}`,
  directoryTitle: () => 'Server Directory',
  /** One line of a listing: the name, or with `long` its size, owner, time, SHA-256 and expiry. */
  directoryEntry: (e: FileEntry, long: boolean) =>
    long
      ? `${e.name}\t${e.size}\t${e.owner ?? '-'}\t${formatTimestamp(e.time)}\t${e.sha256}\t${e.expires === undefined ? '-' : formatTimestamp(e.expires)}`
      : e.name,
  received: (name: string) => `File received from Server: ${name}`,
  /** `get --discard-partial`: what was removed, or that nothing was held. */
  discarded: (name: string, bytes: number | undefined, path: string) =>
    bytes === undefined
      ? `No partial download of ${name} is held in ${path}.`
      : `Removed the partial download of ${name} (${formatBytes(bytes)}) from ${path}.`,
};

/** Text from the server made safe for a terminal (protocol/names.ts, beside the rules it keeps). */
export { printable } from '../protocol/names.js';
