/**
 * The one way a connection comes to act as a handle (`ctx.identify`), with the checks the core
 * makes whoever calls it: a handler, built-in or a plugin's, never sets a connection's handle.
 */
import { FexError } from '../shared/errors.js';
import { handleProblem } from '../protocol/names.js';
import type { HandleStore } from './handles.js';
import type { Identity, Limits } from './plugin-api.js';

export async function identify(
  current: string | undefined,
  identity: Identity,
  handles: HandleStore,
  limits: Readonly<Limits>,
): Promise<{ handle: string; credential?: string }> {
  if ('register' in identity) {
    const handle = identity.register;
    if (typeof handle !== 'string') throw new TypeError('identify: "register" must be a string');
    if (current) throw new FexError('E_ALREADY_REGISTERED', { handle: current });
    const max = limits.maxHandleLength;
    if (!handleProblem(handle) && handle.length > max)
      throw new FexError('E_HANDLE_TOO_LONG', { handle, max });
    return { handle, credential: await handles.register(handle) };
  }
  const { handle: claimed, credential } = identity;
  if (typeof claimed !== 'string' || typeof credential !== 'string')
    throw new TypeError('identify: "handle" and "credential" must be strings');
  const handle = await handles.verify(claimed, credential);
  if (current && current !== handle)
    throw new FexError('E_ALREADY_REGISTERED', { handle: current });
  return { handle };
}
