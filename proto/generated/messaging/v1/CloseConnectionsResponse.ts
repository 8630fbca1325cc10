// Original file: proto/messaging/v1/gateway.proto


export interface CloseConnectionsResponse {
  'closed'?: (number);
}

export interface CloseConnectionsResponse__Output {
  'closed': (number);
}
