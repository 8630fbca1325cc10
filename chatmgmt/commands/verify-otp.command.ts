import type { SessionRecord } from "../../runtime/ports/session-store.js";
import type { UserRecord } from "../../runtime/ports/user-store.js";
import type { IssuedTokens } from "../auth/sessions.js";

/** Logs in with a one-time code: creates the user on first login and opens a session (spec §3.2). */
export class VerifyOtpCommand {
  constructor(
    readonly phoneNumber: string,
    readonly otp: string,
    readonly deviceId: string,
  ) {}
}

export interface LoginResult {
  readonly user: UserRecord;
  readonly session: SessionRecord;
  readonly tokens: IssuedTokens;
  readonly isNewUser: boolean;
}
