// Original file: proto/messaging/v1/chat.proto


export interface SetMemberRoleRequest {
  'chat_id'?: (string);
  'user_id'?: (string);
  'role'?: (string);
}

export interface SetMemberRoleRequest__Output {
  'chat_id': (string);
  'user_id': (string);
  'role': (string);
}
