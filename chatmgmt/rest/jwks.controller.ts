import { Controller, Get, Header, Inject } from "@nestjs/common";
import { jwksOf } from "../auth/signing-keys.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";

/** The public signing keys (RFC 7517), for gateways and ingest nodes that verify access tokens (D11). */
@Controller(".well-known")
export class JwksController {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  @Get("jwks.json")
  @Header("cache-control", "public, max-age=300")
  jwks() {
    return jwksOf(this.ctx.signingKey);
  }
}
