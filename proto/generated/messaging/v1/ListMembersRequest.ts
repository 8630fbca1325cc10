// Original file: proto/messaging/v1/chat.proto


export interface ListMembersRequest {
  'chat_id'?: (string);
}

export interface ListMembersRequest__Output {
  'chat_id': (string);
}
