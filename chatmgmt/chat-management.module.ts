import { type DynamicModule, Module, type Provider } from "@nestjs/common";
import { CqrsModule } from "@nestjs/cqrs";
import { AccessTokens } from "./auth/access-tokens.js";
import { RateLimiter } from "./auth/rate-limits.js";
import { Sessions } from "./auth/sessions.js";
import { ChatCreation } from "./chats/chat-creation.js";
import { MembershipRemoval } from "./chats/membership-removal.js";
import { RequestIdempotency } from "./chats/request-idempotency.js";
import { AddMemberHandler } from "./commands/add-member.handler.js";
import { CreateChatHandler } from "./commands/create-chat.handler.js";
import { LeaveChatHandler } from "./commands/leave-chat.handler.js";
import { LogoutHandler } from "./commands/logout.handler.js";
import { MuteChatHandler } from "./commands/mute-chat.handler.js";
import { RefreshTokensHandler } from "./commands/refresh-tokens.handler.js";
import { RemoveMemberHandler } from "./commands/remove-member.handler.js";
import { RenameChatHandler } from "./commands/rename-chat.handler.js";
import { RequestOtpHandler } from "./commands/request-otp.handler.js";
import { RevokeAllSessionsHandler } from "./commands/revoke-all-sessions.handler.js";
import { RevokeSessionHandler } from "./commands/revoke-session.handler.js";
import { SetMemberRoleHandler } from "./commands/set-member-role.handler.js";
import { UpdateDeliveryStateHandler } from "./commands/update-delivery-state.handler.js";
import { UpdateProfileHandler } from "./commands/update-profile.handler.js";
import { VerifyOtpHandler } from "./commands/verify-otp.handler.js";
import type { ChatManagementParts } from "./context.js";
import { ChatCreatedHandler } from "./events/chat-created.handler.js";
import { LifecyclePublisher } from "./events/lifecycle-publisher.js";
import { MembershipChangedHandler } from "./events/membership-changed.handler.js";
import { ChatServiceController } from "./grpc/chat-service.controller.js";
import { GetChatHandler } from "./queries/get-chat.handler.js";
import { GetCurrentSequenceHandler } from "./queries/get-current-sequence.handler.js";
import { GetDeliveryStatesHandler } from "./queries/get-delivery-states.handler.js";
import { GetMembershipHandler } from "./queries/get-membership.handler.js";
import { GetMessageHandler } from "./queries/get-message.handler.js";
import { GetMessagesHandler } from "./queries/get-messages.handler.js";
import { GetMessagesAroundHandler } from "./queries/get-messages-around.handler.js";
import { GetUserHandler } from "./queries/get-user.handler.js";
import { ListChatsHandler } from "./queries/list-chats.handler.js";
import { ListMembersHandler } from "./queries/list-members.handler.js";
import { ListSessionsHandler } from "./queries/list-sessions.handler.js";
import { LookupUsersHandler } from "./queries/lookup-users.handler.js";
import { ApiRootController } from "./rest/api-root.controller.js";
import { AuthController } from "./rest/auth.controller.js";
import { AuthGuard } from "./rest/auth.guard.js";
import { ChatsController } from "./rest/chats.controller.js";
import {
  OtpRequestLimitGuard,
  OtpVerifyLimitGuard,
  UnauthenticatedLimitGuard,
} from "./rest/client-ip-limit.guard.js";
import { RestErrorFilter } from "./rest/error.filter.js";
import { JwksController } from "./rest/jwks.controller.js";
import { MessagesController } from "./rest/messages.controller.js";
import { OpenApiController } from "./rest/openapi.controller.js";
import { ClientIpLimits } from "./rest/rate-limit-headers.js";
import { SessionsController } from "./rest/sessions.controller.js";
import { UsersController } from "./rest/users.controller.js";
import {
  AUTH_LIMITS,
  CHAT_STORE,
  CLOCK,
  CLOSE_CONNECTIONS,
  CONFIG,
  EVENT_LOG,
  IDS,
  LOGGER,
  MESSAGE_STORE,
  OTP_PEPPER,
  OTP_STORE,
  RATE_LIMIT_STORE,
  REQUEST_IDEMPOTENCY_STORE,
  SESSION_STORE,
  SIGNING_KEY,
  SMS_SENDER,
  USER_STORE,
} from "./tokens.js";

const COMMAND_HANDLERS = [
  RequestOtpHandler,
  VerifyOtpHandler,
  RefreshTokensHandler,
  LogoutHandler,
  RevokeSessionHandler,
  RevokeAllSessionsHandler,
  UpdateProfileHandler,
  CreateChatHandler,
  RenameChatHandler,
  AddMemberHandler,
  RemoveMemberHandler,
  SetMemberRoleHandler,
  LeaveChatHandler,
  UpdateDeliveryStateHandler,
  MuteChatHandler,
];

const QUERY_HANDLERS = [
  GetUserHandler,
  LookupUsersHandler,
  ListChatsHandler,
  GetChatHandler,
  ListMembersHandler,
  GetMessagesHandler,
  GetMessageHandler,
  GetMessagesAroundHandler,
  ListSessionsHandler,
  GetDeliveryStatesHandler,
  GetMembershipHandler,
  GetCurrentSequenceHandler,
];

const EVENT_HANDLERS = [ChatCreatedHandler, MembershipChangedHandler];

/** What handlers, guards and filters share: each a provider of its own, injected where it is used. */
const SERVICES = [
  RateLimiter,
  Sessions,
  RequestIdempotency,
  ChatCreation,
  MembershipRemoval,
  LifecyclePublisher,
  ClientIpLimits,
  RestErrorFilter,
];

/** Every part under its own token (./tokens.ts). */
function partProviders(parts: ChatManagementParts): Provider[] {
  return [
    { provide: CONFIG, useValue: parts.config },
    { provide: LOGGER, useValue: parts.logger },
    { provide: CLOCK, useValue: parts.clock },
    { provide: IDS, useValue: parts.ids },
    { provide: CHAT_STORE, useValue: parts.chatStore },
    { provide: MESSAGE_STORE, useValue: parts.messageStore },
    { provide: USER_STORE, useValue: parts.userStore },
    { provide: SESSION_STORE, useValue: parts.sessionStore },
    { provide: OTP_STORE, useValue: parts.otpStore },
    { provide: REQUEST_IDEMPOTENCY_STORE, useValue: parts.requestIdempotencyStore },
    { provide: RATE_LIMIT_STORE, useValue: parts.rateLimitStore },
    { provide: EVENT_LOG, useValue: parts.eventLog },
    { provide: CLOSE_CONNECTIONS, useValue: parts.closeConnections },
    { provide: SMS_SENDER, useValue: parts.smsSender },
    { provide: SIGNING_KEY, useValue: parts.signingKey },
    { provide: AccessTokens, useValue: parts.accessTokens },
    { provide: OTP_PEPPER, useValue: parts.otpPepper },
    { provide: AUTH_LIMITS, useValue: parts.limits },
  ];
}

/**
 * The chat-management application: REST controllers and the gRPC ChatService over one command bus and one
 * query bus (@nestjs/cqrs). Each part it is built from is a provider of its own (./tokens.ts), and each
 * handler, guard and controller injects the ones it uses.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: NestJS modules are classes; `with` builds the dynamic module.
export class ChatManagementModule {
  static with(parts: ChatManagementParts): DynamicModule {
    return {
      module: ChatManagementModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        ApiRootController,
        AuthController,
        UsersController,
        ChatsController,
        MessagesController,
        SessionsController,
        JwksController,
        OpenApiController,
        ChatServiceController,
      ],
      providers: [
        ...partProviders(parts),
        ...SERVICES,
        AuthGuard,
        OtpRequestLimitGuard,
        OtpVerifyLimitGuard,
        UnauthenticatedLimitGuard,
        ...COMMAND_HANDLERS,
        ...QUERY_HANDLERS,
        ...EVENT_HANDLERS,
      ],
    };
  }
}
