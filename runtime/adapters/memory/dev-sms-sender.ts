import type { Logger } from "../../logger.js";
import type { DevOtpInbox, SmsSender } from "../../ports/sms-sender.js";

/**
 * The development SMS sender: logs the phone's last four digits with the code and remembers the last code
 * per phone, which chat management serves at `GET /api/v1/dev/otp` only when dev mode is on (D11).
 */
export class DevSmsSender implements SmsSender, DevOtpInbox {
  private readonly codes = new Map<string, string>();

  constructor(private readonly logger: Logger) {}

  async sendOtp(phoneNumber: string, code: string): Promise<void> {
    this.codes.set(phoneNumber, code);
    // In the message text, not a field: the logger redacts code fields, and showing it is this sender's job.
    this.logger.info({ phone_last4: phoneNumber.slice(-4) }, `dev sms: one-time code ${code}`);
  }

  lastCode(phoneNumber: string): string | undefined {
    return this.codes.get(phoneNumber);
  }
}
