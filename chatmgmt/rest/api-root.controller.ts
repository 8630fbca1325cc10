import { Controller, Get, Inject, UseGuards } from "@nestjs/common";
import type { Config } from "../../runtime/config.js";
import { CONTENT_TYPES } from "../../runtime/ports/message-store.js";
import { MAX_CONTENT_BYTES, PROTOCOL_VERSION } from "../../runtime/protocol-limits.js";
import { MAX_CHATS_PER_USER } from "../chats/chat-limits.js";
import type { AuthLimits } from "../context.js";
import { AUTH_LIMITS, CONFIG } from "../tokens.js";
import { UnauthenticatedLimitGuard } from "./client-ip-limit.guard.js";

/** The version of the REST contract (spec §2 `GET /`), not the package's: it changes with the API only. */
export const API_VERSION = "1.0.0";

/** What a client may rely on (spec §2 `capabilities`), from the limits this deployment enforces. */
export interface ApiCapabilities {
  readonly max_message_size_bytes: number;
  readonly max_chat_members: number;
  readonly max_chats_per_user: number;
  readonly supported_content_types: readonly string[];
  readonly auth_methods: readonly string[];
  readonly websocket_protocol_version: number;
}

function apiCapabilities(limits: Pick<AuthLimits, "maxGroupMembers">): ApiCapabilities {
  return {
    // The durability plane's limit: every send path (WebSocket or gRPC) ends there.
    max_message_size_bytes: MAX_CONTENT_BYTES,
    max_chat_members: limits.maxGroupMembers,
    max_chats_per_user: MAX_CHATS_PER_USER,
    supported_content_types: [...CONTENT_TYPES],
    auth_methods: ["phone_otp"],
    websocket_protocol_version: PROTOCOL_VERSION,
  };
}

/**
 * `GET /api/v1/` (and `/api/v1`): the API's version and capabilities, without a token (spec §2). Like every
 * REST success it is wrapped in `{data}` (§1); only `/health` is named as unwrapped.
 */
@Controller("api/v1")
export class ApiRootController {
  constructor(
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get()
  @UseGuards(UnauthenticatedLimitGuard)
  root() {
    return {
      data: {
        version: API_VERSION,
        api_version: "v1",
        capabilities: apiCapabilities(this.limits),
        documentation_url: this.config.apiDocumentationUrl ?? null,
      },
    };
  }
}
