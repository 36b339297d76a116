/**
 * Acting as a handle on an open session, the same way from every front door. Three ways in:
 * - `claimHandle()` (one-shot commands): log in with the credential this account holds for the
 *   handle, else register it on the spot; scripts need no separate step.
 * - `registerHandle()` (the shell's `/register`): always a registration, so a handle held by
 *   anyone, another terminal of the same account included, is refused as the course means.
 * - `loginHandle()` (`login`): only the credential this account holds; never a registration.
 * A credential won by registering is remembered for later sessions and one-shot commands.
 */
import { FexError } from '../shared/errors.js';
import { handleProblem } from '../protocol/names.js';
import type { Session } from './session.js';
import type { ClientState, Held } from './state.js';

/** Logs in with a held credential, sent only to the server that issued it. */
export async function loginWith(session: Session, held: Held): Promise<void> {
  if (held.serverId && held.serverId !== session.info.serverId)
    throw new FexError('SERVER_CHANGED', { server: session.server, handle: held.handle });
  await session.login(held.handle, held.credential);
}

export async function registerHandle(
  session: Session,
  state: ClientState,
  handle: string,
): Promise<Held> {
  const credential = await session.register(handle);
  const held = { handle: session.handle as string, credential, serverId: session.info.serverId };
  state.remember(session.server, held);
  await state.save();
  return held;
}

export async function loginHandle(
  session: Session,
  state: ClientState,
  handle: string,
): Promise<Held> {
  if (handleProblem(handle)) throw new FexError('E_BAD_HANDLE', { handle });
  const held = state.credential(session.server, handle);
  if (!held) throw new FexError('NO_CREDENTIAL', { handle, server: session.server });
  await loginWith(session, held);
  return held;
}

export async function claimHandle(
  session: Session,
  state: ClientState,
  handle: string,
): Promise<void> {
  const held = state.credential(session.server, handle);
  if (held) return loginWith(session, held);
  await registerHandle(session, state, handle);
}
