import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Options } from "@grpc/proto-loader";

/** Where the .proto files live and how they are read, shared by the loader and the type generator. */
export const PROTO_ROOT = dirname(fileURLToPath(import.meta.url));
export const PROTO_FILES = ["common", "ingest", "gateway", "chat", "events"].map((name) =>
  join("messaging", "v1", `${name}.proto`),
);
export const GENERATED_DIR = join(PROTO_ROOT, "generated");

/**
 * Field names stay snake_case as on the wire; 64-bit integers become JS numbers (sequences are capped at
 * 2^53-1 by D13, times are epoch ms); absent scalars read as their defaults.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: false,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

/** The same choices as flags of `proto-loader-gen-types`. */
export const GENERATOR_FLAGS = [
  "--keepCase",
  "--longs=Number",
  "--enums=String",
  "--defaults",
  "--arrays",
  "--oneofs",
  "--grpcLib=@grpc/grpc-js",
  "--includeComments",
];
