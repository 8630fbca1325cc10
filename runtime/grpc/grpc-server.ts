import * as grpc from "@grpc/grpc-js";

export interface RunningGrpcServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Lets in-flight calls finish for up to `graceMs`, then cancels what is left. */
  stop(graceMs: number): Promise<void>;
}

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Adds the services this process hosts (for example `(server) => addIngestService(server, api)`). */
  readonly register: (server: grpc.Server) => void;
  /** Run on every call before its handler: the internal token check (./internal-token.ts). */
  readonly interceptors?: readonly grpc.ServerInterceptor[];
}

/**
 * One gRPC server per process, plaintext: it listens on the cluster's private network only, and every call
 * passes its interceptors (the internal token) first.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({ interceptors: [...(options.interceptors ?? [])] });
  options.register(server);
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  let stopped: Promise<void> | undefined;
  return {
    port,
    stop: (graceMs) => {
      stopped ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopped;
    },
  };
}
