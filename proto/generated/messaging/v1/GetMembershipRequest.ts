// Original file: proto/messaging/v1/chat.proto


export interface GetMembershipRequest {
  'chat_id'?: (string);
  'user_id'?: (string);
}

export interface GetMembershipRequest__Output {
  'chat_id': (string);
  'user_id': (string);
}
