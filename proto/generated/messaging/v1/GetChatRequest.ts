// Original file: proto/messaging/v1/chat.proto


export interface GetChatRequest {
  'chat_id'?: (string);
}

export interface GetChatRequest__Output {
  'chat_id': (string);
}
