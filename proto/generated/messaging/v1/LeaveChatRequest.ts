// Original file: proto/messaging/v1/chat.proto


export interface LeaveChatRequest {
  'chat_id'?: (string);
}

export interface LeaveChatRequest__Output {
  'chat_id': (string);
}
