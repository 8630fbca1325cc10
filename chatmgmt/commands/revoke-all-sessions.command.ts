import type { Caller } from "../auth/sessions.js";

/** Revokes every session of the caller, the current one only if asked. Returns how many were revoked. */
export class RevokeAllSessionsCommand {
  constructor(
    readonly caller: Caller,
    readonly includeCurrent: boolean,
  ) {}
}
