/**
 * Sends one-time codes by SMS. `sendOtp` resolves once the provider has accepted the message; request-otp
 * stores a code only after that, so a user never holds a stored code that was not sent. Failures reject with
 * an AppError a client may see, and never carry the code:
 * - `RATE_LIMITED`: the provider is throttling us (`details.retry_after_seconds` when it says how long);
 * - `VALIDATION_ERROR`: the provider refused the phone number (`details.field_errors` on `phone_number`);
 * - `SERVICE_UNAVAILABLE`: the provider is down, unreachable, refused our credentials or did not answer in time.
 * Senders do not retry: an SMS sent twice costs twice and may arrive twice.
 */
export interface SmsSender {
  sendOtp(phoneNumber: string, code: string): Promise<void>;
  /** Releases the provider's client (connections), if any. */
  close?(): void;
}

/** Exposes the last code sent to a phone, for the dev-mode endpoint `GET /api/v1/dev/otp`. */
export interface DevOtpInbox {
  lastCode(phoneNumber: string): string | undefined;
}
