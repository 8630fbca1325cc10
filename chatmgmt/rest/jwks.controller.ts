import { Controller, Get, Header, Inject } from "@nestjs/common";
import type { SigningKey } from "../auth/signing-keys.js";
import { jwksOf } from "../auth/signing-keys.js";
import { SIGNING_KEY } from "../tokens.js";

/** The public signing keys (RFC 7517), for gateways and ingest nodes that verify access tokens (D11). */
@Controller(".well-known")
export class JwksController {
  constructor(@Inject(SIGNING_KEY) private readonly signingKey: SigningKey) {}

  @Get("jwks.json")
  @Header("cache-control", "public, max-age=300")
  jwks() {
    return jwksOf(this.signingKey);
  }
}
