import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { OTP_STATUSES, type OtpLogin, type OtpRecord, type OtpStore } from "../../ports/otp-store.js";
import { conditionalWrite } from "./client.js";
import {
  attributeNames,
  type Item,
  num,
  readEnum,
  readNumber,
  readOptionalNumber,
  readString,
  str,
} from "./item-codec.js";
import { getItem } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/** Kept an hour past expiry so production's TTL never removes a record a lockout still needs. */
const TTL_GRACE_MS = 3_600_000;

/** OTP records on DynamoDB; every change is one conditional write on the phone's record. */
export class DynamoOtpStore implements OtpStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.table = tableName(options.tablePrefix, "otp_requests");
  }

  async getOtp(phoneHash: string): Promise<OtpRecord | undefined> {
    const item = await getItem(this.client, this.table, { phone_hash: str(phoneHash) }, true);
    return item === undefined ? undefined : decodeOtp(item);
  }

  async putOtp(record: OtpRecord, now: number): Promise<boolean> {
    const condition = "attribute_not_exists(#locked_until) OR #locked_until < :now";
    const command = new PutItemCommand({
      TableName: this.table,
      Item: {
        phone_hash: str(record.phoneHash),
        otp_mac: str(record.otpMac),
        created_at: num(record.createdAt),
        expires_at: num(record.expiresAt),
        attempt_count: num(record.attemptCount),
        status: str(record.status),
        ...(record.lockedUntil === undefined ? {} : { locked_until: num(record.lockedUntil) }),
        ttl: num(Math.ceil((Math.max(record.expiresAt, record.lockedUntil ?? 0) + TTL_GRACE_MS) / 1000)),
      },
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ExpressionAttributeValues: { ":now": num(now) },
    });
    return (await conditionalWrite(`PutItem ${this.table}`, () => this.client.send(command))) !== undefined;
  }

  async recordFailedAttempt(
    phoneHash: string,
    otpMac: string,
    maxAttempts: number,
  ): Promise<number | undefined> {
    const output = await this.update(phoneHash, {
      update: "SET #attempt_count = #attempt_count + :one",
      condition: "#otp_mac = :mac AND #status = :pending AND #attempt_count < :max",
      values: { ":one": num(1), ":mac": str(otpMac), ":pending": str("pending"), ":max": num(maxAttempts) },
    });
    return output === undefined ? undefined : readNumber(output, "attempt_count");
  }

  async lockOut(phoneHash: string, until: number): Promise<void> {
    await this.update(phoneHash, {
      update: "SET #locked_until = :until, #ttl = :ttl",
      condition: "attribute_exists(#phone_hash)",
      values: { ":until": num(until), ":ttl": num(Math.ceil((until + TTL_GRACE_MS) / 1000)) },
    });
  }

  async markVerified(phoneHash: string, otpMac: string, now: number, maxAttempts: number): Promise<boolean> {
    const output = await this.update(phoneHash, {
      update: "SET #status = :verified",
      condition: "#otp_mac = :mac AND #status = :pending AND #expires_at >= :now AND #attempt_count < :max",
      values: {
        ":verified": str("verified"),
        ":mac": str(otpMac),
        ":pending": str("pending"),
        ":now": num(now),
        ":max": num(maxAttempts),
      },
    });
    return output !== undefined;
  }

  async recordLogin(phoneHash: string, otpMac: string, login: OtpLogin): Promise<void> {
    await this.update(phoneHash, {
      update: "SET #login = :login",
      condition: "#otp_mac = :mac AND #status = :verified",
      values: {
        ":login": {
          M: {
            device_id: str(login.deviceId),
            session_id: str(login.sessionId),
            user_id: str(login.userId),
            is_new_user: { BOOL: login.isNewUser },
          },
        },
        ":mac": str(otpMac),
        ":verified": str("verified"),
      },
    });
  }

  private async update(
    phoneHash: string,
    expression: { readonly update: string; readonly condition: string; readonly values: Item },
  ): Promise<Item | undefined> {
    const command = new UpdateItemCommand({
      TableName: this.table,
      Key: { phone_hash: str(phoneHash) },
      UpdateExpression: expression.update,
      ConditionExpression: expression.condition,
      ExpressionAttributeNames: attributeNames(expression.update, expression.condition),
      ExpressionAttributeValues: expression.values,
      ReturnValues: "UPDATED_NEW",
    });
    const output = await conditionalWrite(`UpdateItem ${this.table}`, () => this.client.send(command));
    return output === undefined ? undefined : (output.Attributes ?? {});
  }
}

function decodeOtp(item: Item): OtpRecord {
  const lockedUntil = readOptionalNumber(item, "locked_until");
  const login = item.login?.M;
  return {
    phoneHash: readString(item, "phone_hash"),
    otpMac: readString(item, "otp_mac"),
    createdAt: readNumber(item, "created_at"),
    expiresAt: readNumber(item, "expires_at"),
    attemptCount: readNumber(item, "attempt_count"),
    status: readEnum(item, "status", OTP_STATUSES),
    ...(lockedUntil === undefined ? {} : { lockedUntil }),
    ...(login === undefined
      ? {}
      : {
          login: {
            deviceId: readString(login, "device_id"),
            sessionId: readString(login, "session_id"),
            userId: readString(login, "user_id"),
            isNewUser: login.is_new_user?.BOOL === true,
          },
        }),
  };
}
