import type { Caller } from "../auth/sessions.js";

/** PATCH /users/me. */
export class UpdateProfileCommand {
  constructor(
    readonly caller: Caller,
    readonly displayName: string | undefined,
  ) {}
}
