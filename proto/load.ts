import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { LOADER_OPTIONS, PROTO_FILES } from "./definitions.js";
import type { ProtoGrpcType as ChatProto } from "./generated/chat.js";
import type { ProtoGrpcType as EventsProto } from "./generated/events.js";
import type { ProtoGrpcType as GatewayProto } from "./generated/gateway.js";
import type { ProtoGrpcType as IngestProto } from "./generated/ingest.js";

export type MessagingProto = IngestProto & GatewayProto & ChatProto & EventsProto;

let loaded: MessagingProto | undefined;

/** The `messaging.v1` package for @grpc/grpc-js (service constructors and definitions), loaded once. */
export function messagingProto(): MessagingProto {
  loaded ??= grpc.loadPackageDefinition(loadSync(PROTO_FILES, LOADER_OPTIONS)) as unknown as MessagingProto;
  return loaded;
}
