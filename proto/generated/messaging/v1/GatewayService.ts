// Original file: proto/messaging/v1/gateway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CloseConnectionsRequest as _messaging_v1_CloseConnectionsRequest, CloseConnectionsRequest__Output as _messaging_v1_CloseConnectionsRequest__Output } from '../../messaging/v1/CloseConnectionsRequest.js';
import type { CloseConnectionsResponse as _messaging_v1_CloseConnectionsResponse, CloseConnectionsResponse__Output as _messaging_v1_CloseConnectionsResponse__Output } from '../../messaging/v1/CloseConnectionsResponse.js';
import type { DeliverRequest as _messaging_v1_DeliverRequest, DeliverRequest__Output as _messaging_v1_DeliverRequest__Output } from '../../messaging/v1/DeliverRequest.js';
import type { DeliverResponse as _messaging_v1_DeliverResponse, DeliverResponse__Output as _messaging_v1_DeliverResponse__Output } from '../../messaging/v1/DeliverResponse.js';
import type { PushEphemeralRequest as _messaging_v1_PushEphemeralRequest, PushEphemeralRequest__Output as _messaging_v1_PushEphemeralRequest__Output } from '../../messaging/v1/PushEphemeralRequest.js';
import type { PushEphemeralResponse as _messaging_v1_PushEphemeralResponse, PushEphemeralResponse__Output as _messaging_v1_PushEphemeralResponse__Output } from '../../messaging/v1/PushEphemeralResponse.js';

/**
 * The connection plane's internal endpoint, called by fanout workers (D7) and by chat management.
 */
export interface GatewayServiceClient extends grpc.Client {
  /**
   * Closes connections (session revoked, user removed), with a connection_closing reason.
   */
  CloseConnections(argument: _messaging_v1_CloseConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  CloseConnections(argument: _messaging_v1_CloseConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  CloseConnections(argument: _messaging_v1_CloseConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  CloseConnections(argument: _messaging_v1_CloseConnectionsRequest, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Closes connections (session revoked, user removed), with a connection_closing reason.
   */
  closeConnections(argument: _messaging_v1_CloseConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  closeConnections(argument: _messaging_v1_CloseConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  closeConnections(argument: _messaging_v1_CloseConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  closeConnections(argument: _messaging_v1_CloseConnectionsRequest, callback: grpc.requestCallback<_messaging_v1_CloseConnectionsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Pushes messages to connections of this gateway. Batched: one call per gateway carries every
   * delivery for it. The gateway drops what a slow connection cannot buffer; clients heal by sync.
   */
  Deliver(argument: _messaging_v1_DeliverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _messaging_v1_DeliverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _messaging_v1_DeliverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _messaging_v1_DeliverRequest, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Pushes messages to connections of this gateway. Batched: one call per gateway carries every
   * delivery for it. The gateway drops what a slow connection cannot buffer; clients heal by sync.
   */
  deliver(argument: _messaging_v1_DeliverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  deliver(argument: _messaging_v1_DeliverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  deliver(argument: _messaging_v1_DeliverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  deliver(argument: _messaging_v1_DeliverRequest, callback: grpc.requestCallback<_messaging_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Pushes ephemeral frames (typing indicators; never stored, never on the event log) to users'
   * connections on this gateway. Best effort and off the message path: a connection whose outbound
   * buffer is backed up does not get the frame, and nothing is retried.
   */
  PushEphemeral(argument: _messaging_v1_PushEphemeralRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  PushEphemeral(argument: _messaging_v1_PushEphemeralRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  PushEphemeral(argument: _messaging_v1_PushEphemeralRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  PushEphemeral(argument: _messaging_v1_PushEphemeralRequest, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Pushes ephemeral frames (typing indicators; never stored, never on the event log) to users'
   * connections on this gateway. Best effort and off the message path: a connection whose outbound
   * buffer is backed up does not get the frame, and nothing is retried.
   */
  pushEphemeral(argument: _messaging_v1_PushEphemeralRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  pushEphemeral(argument: _messaging_v1_PushEphemeralRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  pushEphemeral(argument: _messaging_v1_PushEphemeralRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  pushEphemeral(argument: _messaging_v1_PushEphemeralRequest, callback: grpc.requestCallback<_messaging_v1_PushEphemeralResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * The connection plane's internal endpoint, called by fanout workers (D7) and by chat management.
 */
export interface GatewayServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Closes connections (session revoked, user removed), with a connection_closing reason.
   */
  CloseConnections: grpc.handleUnaryCall<_messaging_v1_CloseConnectionsRequest__Output, _messaging_v1_CloseConnectionsResponse>;
  
  /**
   * Pushes messages to connections of this gateway. Batched: one call per gateway carries every
   * delivery for it. The gateway drops what a slow connection cannot buffer; clients heal by sync.
   */
  Deliver: grpc.handleUnaryCall<_messaging_v1_DeliverRequest__Output, _messaging_v1_DeliverResponse>;
  
  /**
   * Pushes ephemeral frames (typing indicators; never stored, never on the event log) to users'
   * connections on this gateway. Best effort and off the message path: a connection whose outbound
   * buffer is backed up does not get the frame, and nothing is retried.
   */
  PushEphemeral: grpc.handleUnaryCall<_messaging_v1_PushEphemeralRequest__Output, _messaging_v1_PushEphemeralResponse>;
  
}

export interface GatewayServiceDefinition extends grpc.ServiceDefinition {
  CloseConnections: MethodDefinition<_messaging_v1_CloseConnectionsRequest, _messaging_v1_CloseConnectionsResponse, _messaging_v1_CloseConnectionsRequest__Output, _messaging_v1_CloseConnectionsResponse__Output>
  Deliver: MethodDefinition<_messaging_v1_DeliverRequest, _messaging_v1_DeliverResponse, _messaging_v1_DeliverRequest__Output, _messaging_v1_DeliverResponse__Output>
  PushEphemeral: MethodDefinition<_messaging_v1_PushEphemeralRequest, _messaging_v1_PushEphemeralResponse, _messaging_v1_PushEphemeralRequest__Output, _messaging_v1_PushEphemeralResponse__Output>
}
