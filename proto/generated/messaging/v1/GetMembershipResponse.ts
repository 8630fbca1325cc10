// Original file: proto/messaging/v1/chat.proto

import type { ChatMember as _messaging_v1_ChatMember, ChatMember__Output as _messaging_v1_ChatMember__Output } from '../../messaging/v1/ChatMember.js';

export interface GetMembershipResponse {
  'is_member'?: (boolean);
  'member'?: (_messaging_v1_ChatMember | null);
}

export interface GetMembershipResponse__Output {
  'is_member': (boolean);
  'member': (_messaging_v1_ChatMember__Output | null);
}
