import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Message as _messaging_v1_Message, Message__Output as _messaging_v1_Message__Output } from './messaging/v1/Message.js';
import type { PageRequest as _messaging_v1_PageRequest, PageRequest__Output as _messaging_v1_PageRequest__Output } from './messaging/v1/PageRequest.js';
import type { PageResponse as _messaging_v1_PageResponse, PageResponse__Output as _messaging_v1_PageResponse__Output } from './messaging/v1/PageResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  messaging: {
    v1: {
      Message: MessageTypeDefinition<_messaging_v1_Message, _messaging_v1_Message__Output>
      PageRequest: MessageTypeDefinition<_messaging_v1_PageRequest, _messaging_v1_PageRequest__Output>
      PageResponse: MessageTypeDefinition<_messaging_v1_PageResponse, _messaging_v1_PageResponse__Output>
    }
  }
}

