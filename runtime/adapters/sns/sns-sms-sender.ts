import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AppError } from "../../errors.js";
import type { SmsSender } from "../../ports/sms-sender.js";

export interface SnsSmsSenderOptions {
  readonly region: string;
  /** Another SNS API endpoint (a local stand-in); default: AWS SNS of `region`. */
  readonly endpoint?: string;
  /** Longest one Publish may take, connection included. */
  readonly timeoutMs: number;
  /** Default: the AWS SDK's credential chain (environment, profile, container or instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** How long a throttled requester is asked to wait: the resend interval request-otp announces (spec §2). */
export const THROTTLED_RETRY_AFTER_S = 60;

/** SNS error names (and AWS-wide codes) that mean "too many requests", "bad phone number". */
const THROTTLED = new Set(["ThrottledException", "Throttled", "Throttling", "ThrottlingException"]);
const INVALID_NUMBER = new Set([
  "InvalidParameterException",
  "InvalidParameter",
  "InvalidParameterValueException",
  "InvalidParameterValue",
]);

/**
 * One-time codes as SNS transactional SMS (`Publish` with `PhoneNumber`; the SNS API speaks the AWS Query
 * protocol: a form-encoded POST, an XML answer). One attempt, bounded by `timeoutMs`: the SDK's retries are
 * off, because a Publish that timed out may still have been delivered and a second one would send a second
 * SMS. Failures become the port's AppErrors; none carries the code or the message text.
 */
export class SnsSmsSender implements SmsSender {
  private readonly client: SNSClient;
  private readonly timeoutMs: number;

  constructor(options: SnsSmsSenderOptions) {
    this.timeoutMs = options.timeoutMs;
    this.client = new SNSClient({
      region: options.region,
      maxAttempts: 1,
      requestHandler: { connectionTimeout: options.timeoutMs, requestTimeout: options.timeoutMs },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
    });
  }

  async sendOtp(phoneNumber: string, code: string): Promise<void> {
    const command = new PublishCommand({
      PhoneNumber: phoneNumber,
      Message: `Your verification code is ${code}. It expires in 5 minutes; never share it.`,
      MessageAttributes: {
        // Transactional: delivered with priority and not subject to promotional opt-outs and quiet hours.
        "AWS.SNS.SMS.SMSType": { DataType: "String", StringValue: "Transactional" },
      },
    });
    try {
      await this.client.send(command, { abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw deliveryError(error);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/** The port's error for an SNS failure, keeping the SDK's error (name, status, request id) as the cause. */
function deliveryError(error: unknown): AppError {
  const name = error instanceof Error ? error.name : "";
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  const status = metadata?.httpStatusCode;
  // Not the SDK's error itself: SNS messages quote the phone number, which logs must not hold.
  const cause = { name, status, request_id: metadata?.requestId };
  if (THROTTLED.has(name) || status === 429) {
    return new AppError("RATE_LIMITED", "the SMS provider is throttling one-time codes; try again later", {
      details: { retry_after_seconds: THROTTLED_RETRY_AFTER_S, reason: "sms_provider_throttled" },
      cause,
    });
  }
  if (INVALID_NUMBER.has(name)) {
    return new AppError("VALIDATION_ERROR", "phone_number: the SMS provider cannot deliver to this number", {
      details: {
        field_errors: [
          {
            field: "phone_number",
            code: "UNDELIVERABLE",
            message: "the SMS provider cannot deliver to this number",
          },
        ],
      },
      cause,
    });
  }
  // 5xx, a refused or timed-out connection, rejected credentials or permissions: nothing the user can fix.
  return new AppError("SERVICE_UNAVAILABLE", "one-time codes cannot be sent right now; try again later", {
    cause,
  });
}
