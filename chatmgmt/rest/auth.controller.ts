import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res, UseGuards } from "@nestjs/common";
import { CommandBus } from "@nestjs/cqrs";
import { z } from "zod";
import { isoTime } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { AppError } from "../../runtime/errors.js";
import type { DevOtpInbox, SmsSender } from "../../runtime/ports/sms-sender.js";
import type { Caller, IssuedTokens } from "../auth/sessions.js";
import { LogoutCommand } from "../commands/logout.command.js";
import { RefreshTokensCommand } from "../commands/refresh-tokens.command.js";
import { RequestOtpCommand, type RequestOtpResult } from "../commands/request-otp.command.js";
import { type LoginResult, VerifyOtpCommand } from "../commands/verify-otp.command.js";
import { deviceId, otpCode, phoneNumber } from "../schemas.js";
import { CONFIG, SMS_SENDER } from "../tokens.js";
import { parseInput } from "../validation.js";
import { AuthGuard } from "./auth.guard.js";
import {
  OtpRequestLimitGuard,
  OtpVerifyLimitGuard,
  UnauthenticatedLimitGuard,
} from "./client-ip-limit.guard.js";
import { CurrentCaller, header, type RestRequest } from "./request.js";
import { tokensView } from "./views.js";

export const requestOtpBody = z.strictObject({ phone_number: phoneNumber });
export const verifyOtpBody = z.strictObject({ phone_number: phoneNumber, otp: otpCode, device_id: deviceId });
export const refreshBody = z.strictObject({
  refresh_token: z.string({ error: "refresh_token is required" }).min(1).max(200),
});
export const logoutBody = z.strictObject({ refresh_token: z.string().max(200).optional() }).optional();
export const devOtpQuery = z.object({ phone: phoneNumber });

/**
 * `/api/v1/auth/*` (spec §3): no bearer token except on logout, so the per-IP limits of spec §1 apply
 * (request-otp's own, the generous one elsewhere).
 */
@Controller("api/v1")
export class AuthController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SMS_SENDER) private readonly smsSender: SmsSender & Partial<DevOtpInbox>,
  ) {}

  @Post("auth/request-otp")
  @HttpCode(200)
  @UseGuards(OtpRequestLimitGuard)
  async requestOtp(@Body() body: unknown) {
    const input = parseInput(requestOtpBody, body);
    const result = await this.commands.execute<RequestOtpCommand, RequestOtpResult>(
      new RequestOtpCommand(input.phone_number),
    );
    return {
      data: {
        phone_number: result.phoneNumber,
        expires_at: isoTime(result.expiresAt),
        retry_after_seconds: result.retryAfterS,
      },
    };
  }

  @Post("auth/verify-otp")
  @UseGuards(OtpVerifyLimitGuard)
  async verifyOtp(
    @Body() body: unknown,
    @Req() request: RestRequest,
    @Res({ passthrough: true }) response: { status(code: number): void },
  ) {
    const input = parseInput(verifyOtpBody, body);
    if (header(request, "x-device-id") !== input.device_id) {
      throw new AppError("DEVICE_MISMATCH", "X-Device-ID must equal device_id");
    }
    const result = await this.commands.execute<VerifyOtpCommand, LoginResult>(
      new VerifyOtpCommand(input.phone_number, input.otp, input.device_id),
    );
    response.status(result.isNewUser ? 201 : 200);
    return {
      data: {
        user: {
          user_id: result.user.userId,
          phone_number: result.user.phoneNumber,
          display_name: result.user.displayName,
          created_at: isoTime(result.user.createdAt),
        },
        session: {
          session_id: result.session.sessionId,
          device_id: result.session.deviceId,
          created_at: isoTime(result.session.createdAt),
          expires_at: isoTime(result.session.expiresAt),
        },
        tokens: tokensView(result.tokens),
        is_new_user: result.isNewUser,
      },
    };
  }

  @Post("auth/refresh")
  @HttpCode(200)
  @UseGuards(UnauthenticatedLimitGuard)
  async refresh(@Body() body: unknown, @Req() request: RestRequest) {
    const input = parseInput(refreshBody, body);
    const device = header(request, "x-device-id");
    if (device === undefined) throw new AppError("DEVICE_MISMATCH", "X-Device-ID is required");
    const bearer = /^Bearer (\S+)$/.exec(header(request, "authorization") ?? "")?.[1];
    const tokens = await this.commands.execute<RefreshTokensCommand, IssuedTokens>(
      new RefreshTokensCommand(input.refresh_token, device, bearer),
    );
    return { data: { tokens: tokensView(tokens) } };
  }

  @Post("auth/logout")
  @HttpCode(204)
  @UseGuards(AuthGuard)
  async logout(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<void> {
    parseInput(logoutBody, body);
    await this.commands.execute(new LogoutCommand(caller));
  }

  /**
   * D11: the last code per phone, only in dev mode. Outside it the endpoint does not exist: the answer is the
   * one of any unknown path, so a production process does not even advertise it.
   */
  @Get("dev/otp")
  @UseGuards(UnauthenticatedLimitGuard)
  devOtp(@Query() query: unknown) {
    if (!this.config.devMode || this.smsSender.lastCode === undefined) {
      throw new AppError("NOT_FOUND", "no such endpoint");
    }
    const { phone } = parseInput(devOtpQuery, query);
    const code = this.smsSender.lastCode(phone);
    if (code === undefined) throw new AppError("NOT_FOUND", "no code was sent to this phone");
    return { data: { phone_number: phone, otp: code } };
  }
}
