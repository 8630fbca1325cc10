/** Sends a one-time code to a phone (spec §3.1). Never reveals whether the phone is registered. */
export class RequestOtpCommand {
  constructor(
    readonly phoneNumber: string,
    /** The client's address, for the per-IP limit. */
    readonly clientIp: string,
  ) {}
}

export interface RequestOtpResult {
  readonly phoneNumber: string;
  readonly expiresAt: number;
  readonly retryAfterS: number;
}
