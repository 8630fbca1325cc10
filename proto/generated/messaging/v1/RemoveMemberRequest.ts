// Original file: proto/messaging/v1/chat.proto


export interface RemoveMemberRequest {
  'chat_id'?: (string);
  'user_id'?: (string);
}

export interface RemoveMemberRequest__Output {
  'chat_id': (string);
  'user_id': (string);
}
