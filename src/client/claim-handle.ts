/**
 * Acting as a handle on an open session, the same way from every front door: a handle this client
 * already holds a credential for logs in with it; any other handle is claimed, and the credential
 * the server returns is remembered for later sessions and one-shot commands.
 */
import { FexError } from '../shared/errors.js';
import type { Session } from './session.js';
import type { ClientState } from './state.js';

export async function claimHandle(
  session: Session,
  state: ClientState,
  handle: string,
): Promise<void> {
  const known = state.credential(session.server, handle);
  if (known) {
    // A credential goes only to the server that issued it, not to whatever answers there now.
    if (known.serverId && known.serverId !== session.info.serverId)
      throw new FexError('SERVER_CHANGED', { server: session.server, handle: known.handle });
    return session.login(known.handle, known.credential);
  }
  const credential = await session.register(handle);
  state.remember(session.server, { handle, credential, serverId: session.info.serverId });
  await state.save();
}
