// Original file: proto/messaging/v1/chat.proto

import type { ChatMember as _messaging_v1_ChatMember, ChatMember__Output as _messaging_v1_ChatMember__Output } from '../../messaging/v1/ChatMember.js';

export interface ListMembersResponse {
  'members'?: (_messaging_v1_ChatMember)[];
}

export interface ListMembersResponse__Output {
  'members': (_messaging_v1_ChatMember__Output)[];
}
