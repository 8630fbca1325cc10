// Original file: proto/messaging/v1/chat.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddMemberRequest as _messaging_v1_AddMemberRequest, AddMemberRequest__Output as _messaging_v1_AddMemberRequest__Output } from '../../messaging/v1/AddMemberRequest.js';
import type { ChatMember as _messaging_v1_ChatMember, ChatMember__Output as _messaging_v1_ChatMember__Output } from '../../messaging/v1/ChatMember.js';
import type { CreateChatRequest as _messaging_v1_CreateChatRequest, CreateChatRequest__Output as _messaging_v1_CreateChatRequest__Output } from '../../messaging/v1/CreateChatRequest.js';
import type { CreateChatResponse as _messaging_v1_CreateChatResponse, CreateChatResponse__Output as _messaging_v1_CreateChatResponse__Output } from '../../messaging/v1/CreateChatResponse.js';
import type { GetChatRequest as _messaging_v1_GetChatRequest, GetChatRequest__Output as _messaging_v1_GetChatRequest__Output } from '../../messaging/v1/GetChatRequest.js';
import type { GetChatResponse as _messaging_v1_GetChatResponse, GetChatResponse__Output as _messaging_v1_GetChatResponse__Output } from '../../messaging/v1/GetChatResponse.js';
import type { GetMembershipRequest as _messaging_v1_GetMembershipRequest, GetMembershipRequest__Output as _messaging_v1_GetMembershipRequest__Output } from '../../messaging/v1/GetMembershipRequest.js';
import type { GetMembershipResponse as _messaging_v1_GetMembershipResponse, GetMembershipResponse__Output as _messaging_v1_GetMembershipResponse__Output } from '../../messaging/v1/GetMembershipResponse.js';
import type { GetMessagesRequest as _messaging_v1_GetMessagesRequest, GetMessagesRequest__Output as _messaging_v1_GetMessagesRequest__Output } from '../../messaging/v1/GetMessagesRequest.js';
import type { GetMessagesResponse as _messaging_v1_GetMessagesResponse, GetMessagesResponse__Output as _messaging_v1_GetMessagesResponse__Output } from '../../messaging/v1/GetMessagesResponse.js';
import type { LeaveChatRequest as _messaging_v1_LeaveChatRequest, LeaveChatRequest__Output as _messaging_v1_LeaveChatRequest__Output } from '../../messaging/v1/LeaveChatRequest.js';
import type { LeaveChatResponse as _messaging_v1_LeaveChatResponse, LeaveChatResponse__Output as _messaging_v1_LeaveChatResponse__Output } from '../../messaging/v1/LeaveChatResponse.js';
import type { ListChatsRequest as _messaging_v1_ListChatsRequest, ListChatsRequest__Output as _messaging_v1_ListChatsRequest__Output } from '../../messaging/v1/ListChatsRequest.js';
import type { ListChatsResponse as _messaging_v1_ListChatsResponse, ListChatsResponse__Output as _messaging_v1_ListChatsResponse__Output } from '../../messaging/v1/ListChatsResponse.js';
import type { ListMembersRequest as _messaging_v1_ListMembersRequest, ListMembersRequest__Output as _messaging_v1_ListMembersRequest__Output } from '../../messaging/v1/ListMembersRequest.js';
import type { ListMembersResponse as _messaging_v1_ListMembersResponse, ListMembersResponse__Output as _messaging_v1_ListMembersResponse__Output } from '../../messaging/v1/ListMembersResponse.js';
import type { MemberCountResponse as _messaging_v1_MemberCountResponse, MemberCountResponse__Output as _messaging_v1_MemberCountResponse__Output } from '../../messaging/v1/MemberCountResponse.js';
import type { RemoveMemberRequest as _messaging_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _messaging_v1_RemoveMemberRequest__Output } from '../../messaging/v1/RemoveMemberRequest.js';
import type { RenameChatRequest as _messaging_v1_RenameChatRequest, RenameChatRequest__Output as _messaging_v1_RenameChatRequest__Output } from '../../messaging/v1/RenameChatRequest.js';
import type { SetMemberRoleRequest as _messaging_v1_SetMemberRoleRequest, SetMemberRoleRequest__Output as _messaging_v1_SetMemberRoleRequest__Output } from '../../messaging/v1/SetMemberRoleRequest.js';

/**
 * Chat management over gRPC; the REST API under /api/v1 calls the same command and query buses.
 * The caller is the user of the request's bearer token (metadata `authorization: Bearer <jwt>`).
 */
export interface ChatServiceClient extends grpc.Client {
  AddMember(argument: _messaging_v1_AddMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _messaging_v1_AddMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _messaging_v1_AddMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _messaging_v1_AddMemberRequest, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _messaging_v1_AddMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _messaging_v1_AddMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _messaging_v1_AddMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _messaging_v1_AddMemberRequest, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  
  CreateChat(argument: _messaging_v1_CreateChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  CreateChat(argument: _messaging_v1_CreateChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  CreateChat(argument: _messaging_v1_CreateChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  CreateChat(argument: _messaging_v1_CreateChatRequest, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  createChat(argument: _messaging_v1_CreateChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  createChat(argument: _messaging_v1_CreateChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  createChat(argument: _messaging_v1_CreateChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  createChat(argument: _messaging_v1_CreateChatRequest, callback: grpc.requestCallback<_messaging_v1_CreateChatResponse__Output>): grpc.ClientUnaryCall;
  
  GetChat(argument: _messaging_v1_GetChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  GetChat(argument: _messaging_v1_GetChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  GetChat(argument: _messaging_v1_GetChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  GetChat(argument: _messaging_v1_GetChatRequest, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  getChat(argument: _messaging_v1_GetChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  getChat(argument: _messaging_v1_GetChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  getChat(argument: _messaging_v1_GetChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  getChat(argument: _messaging_v1_GetChatRequest, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Used by ingest and fanout on a membership cache miss.
   */
  GetMembership(argument: _messaging_v1_GetMembershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  GetMembership(argument: _messaging_v1_GetMembershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  GetMembership(argument: _messaging_v1_GetMembershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  GetMembership(argument: _messaging_v1_GetMembershipRequest, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Used by ingest and fanout on a membership cache miss.
   */
  getMembership(argument: _messaging_v1_GetMembershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  getMembership(argument: _messaging_v1_GetMembershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  getMembership(argument: _messaging_v1_GetMembershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  getMembership(argument: _messaging_v1_GetMembershipRequest, callback: grpc.requestCallback<_messaging_v1_GetMembershipResponse__Output>): grpc.ClientUnaryCall;
  
  GetMessages(argument: _messaging_v1_GetMessagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  GetMessages(argument: _messaging_v1_GetMessagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  GetMessages(argument: _messaging_v1_GetMessagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  GetMessages(argument: _messaging_v1_GetMessagesRequest, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  getMessages(argument: _messaging_v1_GetMessagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  getMessages(argument: _messaging_v1_GetMessagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  getMessages(argument: _messaging_v1_GetMessagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  getMessages(argument: _messaging_v1_GetMessagesRequest, callback: grpc.requestCallback<_messaging_v1_GetMessagesResponse__Output>): grpc.ClientUnaryCall;
  
  LeaveChat(argument: _messaging_v1_LeaveChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  LeaveChat(argument: _messaging_v1_LeaveChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  LeaveChat(argument: _messaging_v1_LeaveChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  LeaveChat(argument: _messaging_v1_LeaveChatRequest, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  leaveChat(argument: _messaging_v1_LeaveChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  leaveChat(argument: _messaging_v1_LeaveChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  leaveChat(argument: _messaging_v1_LeaveChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  leaveChat(argument: _messaging_v1_LeaveChatRequest, callback: grpc.requestCallback<_messaging_v1_LeaveChatResponse__Output>): grpc.ClientUnaryCall;
  
  ListChats(argument: _messaging_v1_ListChatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  ListChats(argument: _messaging_v1_ListChatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  ListChats(argument: _messaging_v1_ListChatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  ListChats(argument: _messaging_v1_ListChatsRequest, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  listChats(argument: _messaging_v1_ListChatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  listChats(argument: _messaging_v1_ListChatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  listChats(argument: _messaging_v1_ListChatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  listChats(argument: _messaging_v1_ListChatsRequest, callback: grpc.requestCallback<_messaging_v1_ListChatsResponse__Output>): grpc.ClientUnaryCall;
  
  ListMembers(argument: _messaging_v1_ListMembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _messaging_v1_ListMembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _messaging_v1_ListMembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _messaging_v1_ListMembersRequest, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _messaging_v1_ListMembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _messaging_v1_ListMembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _messaging_v1_ListMembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _messaging_v1_ListMembersRequest, callback: grpc.requestCallback<_messaging_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveMember(argument: _messaging_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _messaging_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _messaging_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _messaging_v1_RemoveMemberRequest, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _messaging_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _messaging_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _messaging_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _messaging_v1_RemoveMemberRequest, callback: grpc.requestCallback<_messaging_v1_MemberCountResponse__Output>): grpc.ClientUnaryCall;
  
  RenameChat(argument: _messaging_v1_RenameChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  RenameChat(argument: _messaging_v1_RenameChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  RenameChat(argument: _messaging_v1_RenameChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  RenameChat(argument: _messaging_v1_RenameChatRequest, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  renameChat(argument: _messaging_v1_RenameChatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  renameChat(argument: _messaging_v1_RenameChatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  renameChat(argument: _messaging_v1_RenameChatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  renameChat(argument: _messaging_v1_RenameChatRequest, callback: grpc.requestCallback<_messaging_v1_GetChatResponse__Output>): grpc.ClientUnaryCall;
  
  SetMemberRole(argument: _messaging_v1_SetMemberRoleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  SetMemberRole(argument: _messaging_v1_SetMemberRoleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  SetMemberRole(argument: _messaging_v1_SetMemberRoleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  SetMemberRole(argument: _messaging_v1_SetMemberRoleRequest, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  setMemberRole(argument: _messaging_v1_SetMemberRoleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  setMemberRole(argument: _messaging_v1_SetMemberRoleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  setMemberRole(argument: _messaging_v1_SetMemberRoleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  setMemberRole(argument: _messaging_v1_SetMemberRoleRequest, callback: grpc.requestCallback<_messaging_v1_ChatMember__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Chat management over gRPC; the REST API under /api/v1 calls the same command and query buses.
 * The caller is the user of the request's bearer token (metadata `authorization: Bearer <jwt>`).
 */
export interface ChatServiceHandlers extends grpc.UntypedServiceImplementation {
  AddMember: grpc.handleUnaryCall<_messaging_v1_AddMemberRequest__Output, _messaging_v1_MemberCountResponse>;
  
  CreateChat: grpc.handleUnaryCall<_messaging_v1_CreateChatRequest__Output, _messaging_v1_CreateChatResponse>;
  
  GetChat: grpc.handleUnaryCall<_messaging_v1_GetChatRequest__Output, _messaging_v1_GetChatResponse>;
  
  /**
   * Used by ingest and fanout on a membership cache miss.
   */
  GetMembership: grpc.handleUnaryCall<_messaging_v1_GetMembershipRequest__Output, _messaging_v1_GetMembershipResponse>;
  
  GetMessages: grpc.handleUnaryCall<_messaging_v1_GetMessagesRequest__Output, _messaging_v1_GetMessagesResponse>;
  
  LeaveChat: grpc.handleUnaryCall<_messaging_v1_LeaveChatRequest__Output, _messaging_v1_LeaveChatResponse>;
  
  ListChats: grpc.handleUnaryCall<_messaging_v1_ListChatsRequest__Output, _messaging_v1_ListChatsResponse>;
  
  ListMembers: grpc.handleUnaryCall<_messaging_v1_ListMembersRequest__Output, _messaging_v1_ListMembersResponse>;
  
  RemoveMember: grpc.handleUnaryCall<_messaging_v1_RemoveMemberRequest__Output, _messaging_v1_MemberCountResponse>;
  
  RenameChat: grpc.handleUnaryCall<_messaging_v1_RenameChatRequest__Output, _messaging_v1_GetChatResponse>;
  
  SetMemberRole: grpc.handleUnaryCall<_messaging_v1_SetMemberRoleRequest__Output, _messaging_v1_ChatMember>;
  
}

export interface ChatServiceDefinition extends grpc.ServiceDefinition {
  AddMember: MethodDefinition<_messaging_v1_AddMemberRequest, _messaging_v1_MemberCountResponse, _messaging_v1_AddMemberRequest__Output, _messaging_v1_MemberCountResponse__Output>
  CreateChat: MethodDefinition<_messaging_v1_CreateChatRequest, _messaging_v1_CreateChatResponse, _messaging_v1_CreateChatRequest__Output, _messaging_v1_CreateChatResponse__Output>
  GetChat: MethodDefinition<_messaging_v1_GetChatRequest, _messaging_v1_GetChatResponse, _messaging_v1_GetChatRequest__Output, _messaging_v1_GetChatResponse__Output>
  GetMembership: MethodDefinition<_messaging_v1_GetMembershipRequest, _messaging_v1_GetMembershipResponse, _messaging_v1_GetMembershipRequest__Output, _messaging_v1_GetMembershipResponse__Output>
  GetMessages: MethodDefinition<_messaging_v1_GetMessagesRequest, _messaging_v1_GetMessagesResponse, _messaging_v1_GetMessagesRequest__Output, _messaging_v1_GetMessagesResponse__Output>
  LeaveChat: MethodDefinition<_messaging_v1_LeaveChatRequest, _messaging_v1_LeaveChatResponse, _messaging_v1_LeaveChatRequest__Output, _messaging_v1_LeaveChatResponse__Output>
  ListChats: MethodDefinition<_messaging_v1_ListChatsRequest, _messaging_v1_ListChatsResponse, _messaging_v1_ListChatsRequest__Output, _messaging_v1_ListChatsResponse__Output>
  ListMembers: MethodDefinition<_messaging_v1_ListMembersRequest, _messaging_v1_ListMembersResponse, _messaging_v1_ListMembersRequest__Output, _messaging_v1_ListMembersResponse__Output>
  RemoveMember: MethodDefinition<_messaging_v1_RemoveMemberRequest, _messaging_v1_MemberCountResponse, _messaging_v1_RemoveMemberRequest__Output, _messaging_v1_MemberCountResponse__Output>
  RenameChat: MethodDefinition<_messaging_v1_RenameChatRequest, _messaging_v1_GetChatResponse, _messaging_v1_RenameChatRequest__Output, _messaging_v1_GetChatResponse__Output>
  SetMemberRole: MethodDefinition<_messaging_v1_SetMemberRoleRequest, _messaging_v1_ChatMember, _messaging_v1_SetMemberRoleRequest__Output, _messaging_v1_ChatMember__Output>
}
