/**
 * Sends a one-time code to a phone (spec §3.1). Never reveals whether the phone is registered. The per-IP
 * limit is the REST edge's (rest/client-ip-limit.guard.ts), which reports it in `X-RateLimit-*`.
 */
export class RequestOtpCommand {
  constructor(readonly phoneNumber: string) {}
}

export interface RequestOtpResult {
  readonly phoneNumber: string;
  readonly expiresAt: number;
  readonly retryAfterS: number;
}
