/** The success lines of SPEC.md, word for word, in one place. */
import type { FileEntry } from '../protocol/constants.js';
import { UNPRINTABLE } from '../protocol/names.js';
import { formatTimestamp } from '../protocol/time.js';

export const messages = {
  joined: () => 'Connection to the File Exchange Server is successful!',
  left: () => 'Connection closed. Thank you!',
  welcome: (handle: string) => `Welcome ${handle}!`,
  uploaded: (handle: string, name: string, time: number) =>
    `${handle}<${formatTimestamp(time)}>: Uploaded ${name}`,
  directoryTitle: () => 'Server Directory',
  /** One line of a listing: the name, or with `long` its size, owner, time and SHA-256 too. */
  directoryEntry: (e: FileEntry, long: boolean) =>
    long
      ? `${e.name}\t${e.size}\t${e.owner ?? '-'}\t${formatTimestamp(e.time)}\t${e.sha256}`
      : e.name,
  received: (name: string) => `File received from Server: ${name}`,
};

/**
 * Text from the server made safe for a terminal: control characters (escape sequences), and
 * invisible or direction-changing characters, become "?".
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '?');
}
