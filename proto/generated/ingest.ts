import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AckRequest as _messaging_v1_AckRequest, AckRequest__Output as _messaging_v1_AckRequest__Output } from './messaging/v1/AckRequest.js';
import type { AckResponse as _messaging_v1_AckResponse, AckResponse__Output as _messaging_v1_AckResponse__Output } from './messaging/v1/AckResponse.js';
import type { IngestServiceClient as _messaging_v1_IngestServiceClient, IngestServiceDefinition as _messaging_v1_IngestServiceDefinition } from './messaging/v1/IngestService.js';
import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from './messaging/v1/Message.js';
import type { PageRequest as _messaging_v1_PageRequest, PageRequest__Output as _messaging_v1_PageRequest__Output } from './messaging/v1/PageRequest.js';
import type { PageResponse as _messaging_v1_PageResponse, PageResponse__Output as _messaging_v1_PageResponse__Output } from './messaging/v1/PageResponse.js';
import type { PersistMessageRequest as _messaging_v1_PersistMessageRequest, PersistMessageRequest__Output as _messaging_v1_PersistMessageRequest__Output } from './messaging/v1/PersistMessageRequest.js';
import type { PersistMessageResponse as _messaging_v1_PersistMessageResponse, PersistMessageResponse__Output as _messaging_v1_PersistMessageResponse__Output } from './messaging/v1/PersistMessageResponse.js';
import type { SyncMessagesRequest as _messaging_v1_SyncMessagesRequest, SyncMessagesRequest__Output as _messaging_v1_SyncMessagesRequest__Output } from './messaging/v1/SyncMessagesRequest.js';
import type { SyncMessagesResponse as _messaging_v1_SyncMessagesResponse, SyncMessagesResponse__Output as _messaging_v1_SyncMessagesResponse__Output } from './messaging/v1/SyncMessagesResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  messaging: {
    v1: {
      AckRequest: MessageTypeDefinition<_messaging_v1_AckRequest, _messaging_v1_AckRequest__Output>
      AckResponse: MessageTypeDefinition<_messaging_v1_AckResponse, _messaging_v1_AckResponse__Output>
      /**
       * The durability plane. Served by ingest nodes; each request is routed by the hash ring to the owner of
       * `chat_id` (D5). A node that does not own the chat fails with NOT_OWNER and its `ring-version`.
       */
      IngestService: SubtypeConstructor<typeof grpc.Client, _messaging_v1_IngestServiceClient> & { service: _messaging_v1_IngestServiceDefinition }
      Message: MessageTypeDefinition<_messaging_v1_Message, _messaging_v1_Message__Output>
      PageRequest: MessageTypeDefinition<_messaging_v1_PageRequest, _messaging_v1_PageRequest__Output>
      PageResponse: MessageTypeDefinition<_messaging_v1_PageResponse, _messaging_v1_PageResponse__Output>
      PersistMessageRequest: MessageTypeDefinition<_messaging_v1_PersistMessageRequest, _messaging_v1_PersistMessageRequest__Output>
      PersistMessageResponse: MessageTypeDefinition<_messaging_v1_PersistMessageResponse, _messaging_v1_PersistMessageResponse__Output>
      SyncMessagesRequest: MessageTypeDefinition<_messaging_v1_SyncMessagesRequest, _messaging_v1_SyncMessagesRequest__Output>
      SyncMessagesResponse: MessageTypeDefinition<_messaging_v1_SyncMessagesResponse, _messaging_v1_SyncMessagesResponse__Output>
    }
  }
}

