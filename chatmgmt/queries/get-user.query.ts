import type { UserId } from "../../runtime/ids.js";

/** One user's profile (public part unless it is the caller). */
export class GetUserQuery {
  constructor(readonly userId: UserId) {}
}
