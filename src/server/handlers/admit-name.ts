import { FexError } from '../../shared/errors.js';
import { refuseBadName } from '../../protocol/names.js';
import type { Limits } from '../plugin-api.js';

/** The name rules, and this server's length limit: what a name must pass before it touches the disk. */
export function admitName(limits: Pick<Limits, 'maxNameBytes'>, name: string): void {
  refuseBadName(name);
  const { maxNameBytes } = limits;
  if (Buffer.byteLength(name, 'utf8') > maxNameBytes)
    throw new FexError('E_BAD_NAME', {
      name,
      reason: `the name is longer than ${maxNameBytes} bytes, this server's limit`,
    });
}
