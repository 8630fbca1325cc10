// Original file: proto/messaging/v1/ingest.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AckRequest as _messaging_v1_AckRequest, AckRequest__Output as _messaging_v1_AckRequest__Output } from '../../messaging/v1/AckRequest.js';
import type { AckResponse as _messaging_v1_AckResponse, AckResponse__Output as _messaging_v1_AckResponse__Output } from '../../messaging/v1/AckResponse.js';
import type { PersistMessageRequest as _messaging_v1_PersistMessageRequest, PersistMessageRequest__Output as _messaging_v1_PersistMessageRequest__Output } from '../../messaging/v1/PersistMessageRequest.js';
import type { PersistMessageResponse as _messaging_v1_PersistMessageResponse, PersistMessageResponse__Output as _messaging_v1_PersistMessageResponse__Output } from '../../messaging/v1/PersistMessageResponse.js';
import type { SyncMessagesRequest as _messaging_v1_SyncMessagesRequest, SyncMessagesRequest__Output as _messaging_v1_SyncMessagesRequest__Output } from '../../messaging/v1/SyncMessagesRequest.js';
import type { SyncMessagesResponse as _messaging_v1_SyncMessagesResponse, SyncMessagesResponse__Output as _messaging_v1_SyncMessagesResponse__Output } from '../../messaging/v1/SyncMessagesResponse.js';

/**
 * The durability plane. Served by ingest nodes; each request is routed by the hash ring to the owner of
 * `chat_id` (D5). A node that does not own the chat fails with NOT_OWNER and its `ring-version`.
 */
export interface IngestServiceClient extends grpc.Client {
  /**
   * Cumulative delivery ack; raises delivery_state monotonically (D8). Acks above the visible tail are ignored.
   */
  Ack(argument: _messaging_v1_AckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _messaging_v1_AckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _messaging_v1_AckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _messaging_v1_AckRequest, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Cumulative delivery ack; raises delivery_state monotonically (D8). Acks above the visible tail are ignored.
   */
  ack(argument: _messaging_v1_AckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _messaging_v1_AckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _messaging_v1_AckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _messaging_v1_AckRequest, callback: grpc.requestCallback<_messaging_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Authorizes the sender, deduplicates by client_message_id, assigns the next sequence, writes it
   * durably (D1, D2). Answering means the message will never be lost.
   */
  PersistMessage(argument: _messaging_v1_PersistMessageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  PersistMessage(argument: _messaging_v1_PersistMessageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  PersistMessage(argument: _messaging_v1_PersistMessageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  PersistMessage(argument: _messaging_v1_PersistMessageRequest, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Authorizes the sender, deduplicates by client_message_id, assigns the next sequence, writes it
   * durably (D1, D2). Answering means the message will never be lost.
   */
  persistMessage(argument: _messaging_v1_PersistMessageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  persistMessage(argument: _messaging_v1_PersistMessageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  persistMessage(argument: _messaging_v1_PersistMessageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  persistMessage(argument: _messaging_v1_PersistMessageRequest, callback: grpc.requestCallback<_messaging_v1_PersistMessageResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Messages of a chat above a sequence, ascending, never exposing anything above an unresolved
   * sequence (D3).
   */
  SyncMessages(argument: _messaging_v1_SyncMessagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  SyncMessages(argument: _messaging_v1_SyncMessagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  SyncMessages(argument: _messaging_v1_SyncMessagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  SyncMessages(argument: _messaging_v1_SyncMessagesRequest, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Messages of a chat above a sequence, ascending, never exposing anything above an unresolved
   * sequence (D3).
   */
  syncMessages(argument: _messaging_v1_SyncMessagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  syncMessages(argument: _messaging_v1_SyncMessagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  syncMessages(argument: _messaging_v1_SyncMessagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  syncMessages(argument: _messaging_v1_SyncMessagesRequest, callback: grpc.requestCallback<_messaging_v1_SyncMessagesResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * The durability plane. Served by ingest nodes; each request is routed by the hash ring to the owner of
 * `chat_id` (D5). A node that does not own the chat fails with NOT_OWNER and its `ring-version`.
 */
export interface IngestServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Cumulative delivery ack; raises delivery_state monotonically (D8). Acks above the visible tail are ignored.
   */
  Ack: grpc.handleUnaryCall<_messaging_v1_AckRequest__Output, _messaging_v1_AckResponse>;
  
  /**
   * Authorizes the sender, deduplicates by client_message_id, assigns the next sequence, writes it
   * durably (D1, D2). Answering means the message will never be lost.
   */
  PersistMessage: grpc.handleUnaryCall<_messaging_v1_PersistMessageRequest__Output, _messaging_v1_PersistMessageResponse>;
  
  /**
   * Messages of a chat above a sequence, ascending, never exposing anything above an unresolved
   * sequence (D3).
   */
  SyncMessages: grpc.handleUnaryCall<_messaging_v1_SyncMessagesRequest__Output, _messaging_v1_SyncMessagesResponse>;
  
}

export interface IngestServiceDefinition extends grpc.ServiceDefinition {
  Ack: MethodDefinition<_messaging_v1_AckRequest, _messaging_v1_AckResponse, _messaging_v1_AckRequest__Output, _messaging_v1_AckResponse__Output>
  PersistMessage: MethodDefinition<_messaging_v1_PersistMessageRequest, _messaging_v1_PersistMessageResponse, _messaging_v1_PersistMessageRequest__Output, _messaging_v1_PersistMessageResponse__Output>
  SyncMessages: MethodDefinition<_messaging_v1_SyncMessagesRequest, _messaging_v1_SyncMessagesResponse, _messaging_v1_SyncMessagesRequest__Output, _messaging_v1_SyncMessagesResponse__Output>
}
