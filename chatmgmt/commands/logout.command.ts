import type { Caller } from "../auth/sessions.js";

/** Ends the caller's session (spec §3.3: the session named by the token's `sid`). */
export class LogoutCommand {
  constructor(readonly caller: Caller) {}
}
