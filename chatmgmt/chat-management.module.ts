import { type DynamicModule, Module } from "@nestjs/common";
import { CqrsModule } from "@nestjs/cqrs";
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
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "./context.js";
import { ChatCreatedHandler } from "./events/chat-created.handler.js";
import { MembershipChangedHandler } from "./events/membership-changed.handler.js";
import { ChatServiceController } from "./grpc/chat-service.controller.js";
import { GetChatHandler } from "./queries/get-chat.handler.js";
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
import { OtpRequestLimitGuard, UnauthenticatedLimitGuard } from "./rest/client-ip-limit.guard.js";
import { JwksController } from "./rest/jwks.controller.js";
import { MessagesController } from "./rest/messages.controller.js";
import { SessionsController } from "./rest/sessions.controller.js";
import { UsersController } from "./rest/users.controller.js";

export const COMMAND_HANDLERS = [
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

export const QUERY_HANDLERS = [
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
];

export const EVENT_HANDLERS = [ChatCreatedHandler, MembershipChangedHandler];

/**
 * The chat-management application: REST controllers and the gRPC ChatService over one command bus and one
 * query bus (@nestjs/cqrs). Everything it uses arrives as one context object (token CHATMGMT_CONTEXT),
 * injected explicitly because tsx/vitest emit no decorator metadata.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: NestJS modules are classes; `with` builds the dynamic module.
export class ChatManagementModule {
  static with(ctx: ChatMgmtContext): DynamicModule {
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
        ChatServiceController,
      ],
      providers: [
        { provide: CHATMGMT_CONTEXT, useValue: ctx },
        AuthGuard,
        OtpRequestLimitGuard,
        UnauthenticatedLimitGuard,
        ...COMMAND_HANDLERS,
        ...QUERY_HANDLERS,
        ...EVENT_HANDLERS,
      ],
    };
  }
}
