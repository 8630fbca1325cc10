import type { UserId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Which of these phone numbers belong to users (verified numbers only; audit-logged). */
export class LookupUsersQuery {
  constructor(
    readonly caller: Caller,
    readonly phoneNumbers: readonly string[],
  ) {}
}

export interface LookupResult {
  readonly users: ReadonlyArray<{ phoneNumber: string; userId: UserId; displayName: string | null }>;
  readonly notFound: readonly string[];
}
