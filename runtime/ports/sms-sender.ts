/**
 * Sends one-time codes by SMS. Fire-and-forget from the caller's view (spec §3.1): a failure is logged,
 * never retried, and never reveals anything to the requester.
 */
export interface SmsSender {
  sendOtp(phoneNumber: string, code: string): Promise<void>;
}

/** Exposes the last code sent to a phone, for the dev-mode endpoint `GET /api/v1/dev/otp`. */
export interface DevOtpInbox {
  lastCode(phoneNumber: string): string | undefined;
}
