// Original file: proto/messaging/v1/chat.proto


export interface MemberCountResponse {
  'member_count'?: (number);
}

export interface MemberCountResponse__Output {
  'member_count': (number);
}
