import type { Caller } from "../auth/sessions.js";

/** The caller's sessions. */
export class ListSessionsQuery {
  constructor(readonly caller: Caller) {}
}
