import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddMemberRequest as _messaging_v1_AddMemberRequest, AddMemberRequest__Output as _messaging_v1_AddMemberRequest__Output } from './messaging/v1/AddMemberRequest.js';
import type { Chat as _messaging_v1_Chat, Chat__Output as _messaging_v1_Chat__Output } from './messaging/v1/Chat.js';
import type { ChatMember as _messaging_v1_ChatMember, ChatMember__Output as _messaging_v1_ChatMember__Output } from './messaging/v1/ChatMember.js';
import type { ChatServiceClient as _messaging_v1_ChatServiceClient, ChatServiceDefinition as _messaging_v1_ChatServiceDefinition } from './messaging/v1/ChatService.js';
import type { CreateChatRequest as _messaging_v1_CreateChatRequest, CreateChatRequest__Output as _messaging_v1_CreateChatRequest__Output } from './messaging/v1/CreateChatRequest.js';
import type { CreateChatResponse as _messaging_v1_CreateChatResponse, CreateChatResponse__Output as _messaging_v1_CreateChatResponse__Output } from './messaging/v1/CreateChatResponse.js';
import type { GetChatRequest as _messaging_v1_GetChatRequest, GetChatRequest__Output as _messaging_v1_GetChatRequest__Output } from './messaging/v1/GetChatRequest.js';
import type { GetChatResponse as _messaging_v1_GetChatResponse, GetChatResponse__Output as _messaging_v1_GetChatResponse__Output } from './messaging/v1/GetChatResponse.js';
import type { GetMembershipRequest as _messaging_v1_GetMembershipRequest, GetMembershipRequest__Output as _messaging_v1_GetMembershipRequest__Output } from './messaging/v1/GetMembershipRequest.js';
import type { GetMembershipResponse as _messaging_v1_GetMembershipResponse, GetMembershipResponse__Output as _messaging_v1_GetMembershipResponse__Output } from './messaging/v1/GetMembershipResponse.js';
import type { GetMessagesRequest as _messaging_v1_GetMessagesRequest, GetMessagesRequest__Output as _messaging_v1_GetMessagesRequest__Output } from './messaging/v1/GetMessagesRequest.js';
import type { GetMessagesResponse as _messaging_v1_GetMessagesResponse, GetMessagesResponse__Output as _messaging_v1_GetMessagesResponse__Output } from './messaging/v1/GetMessagesResponse.js';
import type { LeaveChatRequest as _messaging_v1_LeaveChatRequest, LeaveChatRequest__Output as _messaging_v1_LeaveChatRequest__Output } from './messaging/v1/LeaveChatRequest.js';
import type { LeaveChatResponse as _messaging_v1_LeaveChatResponse, LeaveChatResponse__Output as _messaging_v1_LeaveChatResponse__Output } from './messaging/v1/LeaveChatResponse.js';
import type { ListChatsRequest as _messaging_v1_ListChatsRequest, ListChatsRequest__Output as _messaging_v1_ListChatsRequest__Output } from './messaging/v1/ListChatsRequest.js';
import type { ListChatsResponse as _messaging_v1_ListChatsResponse, ListChatsResponse__Output as _messaging_v1_ListChatsResponse__Output } from './messaging/v1/ListChatsResponse.js';
import type { ListMembersRequest as _messaging_v1_ListMembersRequest, ListMembersRequest__Output as _messaging_v1_ListMembersRequest__Output } from './messaging/v1/ListMembersRequest.js';
import type { ListMembersResponse as _messaging_v1_ListMembersResponse, ListMembersResponse__Output as _messaging_v1_ListMembersResponse__Output } from './messaging/v1/ListMembersResponse.js';
import type { MemberCountResponse as _messaging_v1_MemberCountResponse, MemberCountResponse__Output as _messaging_v1_MemberCountResponse__Output } from './messaging/v1/MemberCountResponse.js';
import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from './messaging/v1/Message.js';
import type { PageRequest as _messaging_v1_PageRequest, PageRequest__Output as _messaging_v1_PageRequest__Output } from './messaging/v1/PageRequest.js';
import type { PageResponse as _messaging_v1_PageResponse, PageResponse__Output as _messaging_v1_PageResponse__Output } from './messaging/v1/PageResponse.js';
import type { RemoveMemberRequest as _messaging_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _messaging_v1_RemoveMemberRequest__Output } from './messaging/v1/RemoveMemberRequest.js';
import type { RenameChatRequest as _messaging_v1_RenameChatRequest, RenameChatRequest__Output as _messaging_v1_RenameChatRequest__Output } from './messaging/v1/RenameChatRequest.js';
import type { SetMemberRoleRequest as _messaging_v1_SetMemberRoleRequest, SetMemberRoleRequest__Output as _messaging_v1_SetMemberRoleRequest__Output } from './messaging/v1/SetMemberRoleRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  messaging: {
    v1: {
      AddMemberRequest: MessageTypeDefinition<_messaging_v1_AddMemberRequest, _messaging_v1_AddMemberRequest__Output>
      Chat: MessageTypeDefinition<_messaging_v1_Chat, _messaging_v1_Chat__Output>
      ChatMember: MessageTypeDefinition<_messaging_v1_ChatMember, _messaging_v1_ChatMember__Output>
      /**
       * Chat management over gRPC; the REST API under /api/v1 calls the same command and query buses.
       * The caller is the user of the request's bearer token (metadata `authorization: Bearer <jwt>`).
       */
      ChatService: SubtypeConstructor<typeof grpc.Client, _messaging_v1_ChatServiceClient> & { service: _messaging_v1_ChatServiceDefinition }
      CreateChatRequest: MessageTypeDefinition<_messaging_v1_CreateChatRequest, _messaging_v1_CreateChatRequest__Output>
      CreateChatResponse: MessageTypeDefinition<_messaging_v1_CreateChatResponse, _messaging_v1_CreateChatResponse__Output>
      GetChatRequest: MessageTypeDefinition<_messaging_v1_GetChatRequest, _messaging_v1_GetChatRequest__Output>
      GetChatResponse: MessageTypeDefinition<_messaging_v1_GetChatResponse, _messaging_v1_GetChatResponse__Output>
      GetMembershipRequest: MessageTypeDefinition<_messaging_v1_GetMembershipRequest, _messaging_v1_GetMembershipRequest__Output>
      GetMembershipResponse: MessageTypeDefinition<_messaging_v1_GetMembershipResponse, _messaging_v1_GetMembershipResponse__Output>
      GetMessagesRequest: MessageTypeDefinition<_messaging_v1_GetMessagesRequest, _messaging_v1_GetMessagesRequest__Output>
      GetMessagesResponse: MessageTypeDefinition<_messaging_v1_GetMessagesResponse, _messaging_v1_GetMessagesResponse__Output>
      LeaveChatRequest: MessageTypeDefinition<_messaging_v1_LeaveChatRequest, _messaging_v1_LeaveChatRequest__Output>
      LeaveChatResponse: MessageTypeDefinition<_messaging_v1_LeaveChatResponse, _messaging_v1_LeaveChatResponse__Output>
      ListChatsRequest: MessageTypeDefinition<_messaging_v1_ListChatsRequest, _messaging_v1_ListChatsRequest__Output>
      ListChatsResponse: MessageTypeDefinition<_messaging_v1_ListChatsResponse, _messaging_v1_ListChatsResponse__Output>
      ListMembersRequest: MessageTypeDefinition<_messaging_v1_ListMembersRequest, _messaging_v1_ListMembersRequest__Output>
      ListMembersResponse: MessageTypeDefinition<_messaging_v1_ListMembersResponse, _messaging_v1_ListMembersResponse__Output>
      MemberCountResponse: MessageTypeDefinition<_messaging_v1_MemberCountResponse, _messaging_v1_MemberCountResponse__Output>
      Message: MessageTypeDefinition<_messaging_v1_Message, _messaging_v1_Message__Output>
      PageRequest: MessageTypeDefinition<_messaging_v1_PageRequest, _messaging_v1_PageRequest__Output>
      PageResponse: MessageTypeDefinition<_messaging_v1_PageResponse, _messaging_v1_PageResponse__Output>
      RemoveMemberRequest: MessageTypeDefinition<_messaging_v1_RemoveMemberRequest, _messaging_v1_RemoveMemberRequest__Output>
      RenameChatRequest: MessageTypeDefinition<_messaging_v1_RenameChatRequest, _messaging_v1_RenameChatRequest__Output>
      SetMemberRoleRequest: MessageTypeDefinition<_messaging_v1_SetMemberRoleRequest, _messaging_v1_SetMemberRoleRequest__Output>
    }
  }
}

