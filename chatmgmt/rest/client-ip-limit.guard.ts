import type { IncomingMessage } from "node:http";
import { type CanActivate, type ExecutionContext, Inject, Injectable } from "@nestjs/common";
import type { Config } from "../../runtime/config.js";
import { RateLimiter } from "../auth/rate-limits.js";
import { sha256Hex } from "../auth/secrets.js";
import { CONFIG } from "../tokens.js";
import { ClientIpLimits, type HeaderTarget } from "./rate-limit-headers.js";
import { clientIp } from "./request.js";

/**
 * The per-IP limit of a route without a bearer token (spec §1), counted before the body is validated so that
 * malformed attempts count too, and reported in `X-RateLimit-*`: request-otp's own limit on that route, the
 * generous one on the others (verify-otp, refresh, the dev code, `GET /api/v1/`). The client's IP is the one
 * `clientIp` derives through TRUSTED_PROXIES.
 */
abstract class ClientIpLimitGuard implements CanActivate {
  protected abstract readonly kind: "otp_request" | "unauthenticated";

  constructor(private readonly clientIpLimits: ClientIpLimits) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.clientIpLimits.limit(
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

  constructor(@Inject(ClientIpLimits) clientIpLimits: ClientIpLimits) {
    super(clientIpLimits);
  }
}

@Injectable()
export class UnauthenticatedLimitGuard extends ClientIpLimitGuard {
  protected readonly kind = "unauthenticated";

  constructor(@Inject(ClientIpLimits) clientIpLimits: ClientIpLimits) {
    super(clientIpLimits);
  }
}

/**
 * verify-otp: the generous limit (reported in the headers), then the client IP's own verify limit
 * (OTP_VERIFIES_PER_IP per OTP_VERIFY_WINDOW_S, key `otp_verify:ip:{ip_hash}`). It runs before the
 * handler counts the phone's limit (`otp_verify:phone:{phone_hash}`, spec §3.4), so an address that has
 * spent its attempts burns no phone's: locking a victim out costs an attacker OTP_VERIFIES_PER_PHONE of
 * their own address's attempts per phone, and a client behind a load balancer is counted apart from
 * the others there (TRUSTED_PROXIES).
 */
@Injectable()
export class OtpVerifyLimitGuard extends ClientIpLimitGuard {
  protected readonly kind = "unauthenticated";

  constructor(
    @Inject(ClientIpLimits) clientIpLimits: ClientIpLimits,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    super(clientIpLimits);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    await super.canActivate(context);
    const { config } = this;
    const ip = clientIp(context.switchToHttp().getRequest<IncomingMessage>(), config.trustedProxies);
    await this.rateLimiter.enforce(
      `otp_verify:ip:${sha256Hex(ip)}`,
      config.otpVerifiesPerIp,
      config.otpVerifyWindowS * 1000,
    );
    return true;
  }
}
