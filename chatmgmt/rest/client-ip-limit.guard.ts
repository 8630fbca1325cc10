import type { IncomingMessage } from "node:http";
import { type CanActivate, type ExecutionContext, Inject, Injectable } from "@nestjs/common";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { type HeaderTarget, limitClientIp } from "./rate-limit-headers.js";

/**
 * The per-IP limit of a route without a bearer token (spec §1), counted before the body is validated so that
 * malformed attempts count too, and reported in `X-RateLimit-*`: request-otp's own limit on that route, the
 * generous one on the others (verify-otp, refresh, the dev code, `GET /api/v1/`).
 */
abstract class ClientIpLimitGuard implements CanActivate {
  protected abstract readonly kind: "otp_request" | "unauthenticated";

  constructor(private readonly ctx: ChatMgmtContext) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await limitClientIp(
      this.ctx,
      http.getRequest<IncomingMessage>(),
      http.getResponse<HeaderTarget>(),
      this.kind,
    );
    return true;
  }
}

@Injectable()
export class OtpRequestLimitGuard extends ClientIpLimitGuard {
  protected readonly kind = "otp_request";

  constructor(@Inject(CHATMGMT_CONTEXT) ctx: ChatMgmtContext) {
    super(ctx);
  }
}

@Injectable()
export class UnauthenticatedLimitGuard extends ClientIpLimitGuard {
  protected readonly kind = "unauthenticated";

  constructor(@Inject(CHATMGMT_CONTEXT) ctx: ChatMgmtContext) {
    super(ctx);
  }
}
