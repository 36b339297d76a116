/**
 * Acting as a handle on an open session, the same way from every front door: a handle this client
 * already holds a credential for logs in with it; any other handle is claimed, and the credential
 * the server returns is remembered for later sessions and one-shot commands.
 */
import type { Session } from './session.js';
import type { ClientState } from './state.js';

export async function claimHandle(
  session: Session,
  state: ClientState,
  handle: string,
): Promise<void> {
  const known = state.credential(session.identity, handle);
  if (known) return session.login(known.handle, known.credential);
  state.remember(session.identity, handle, await session.register(handle));
  await state.save();
}
