// Original file: proto/messaging/v1/chat.proto


export interface LeaveChatResponse {
}

export interface LeaveChatResponse__Output {
}
