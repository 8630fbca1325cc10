import type { SessionId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Revokes one of the caller's sessions; its WebSockets are closed. */
export class RevokeSessionCommand {
  constructor(
    readonly caller: Caller,
    readonly sessionId: SessionId,
  ) {}
}
