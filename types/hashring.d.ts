declare module "hashring" {
  /** The subset of hashring 3.x this project uses: weighted servers, ketama-compatible md5 continuum. */
  interface ServerOptions {
    readonly weight?: number;
    readonly vnodes?: number;
  }
  interface HashRingOptions {
    readonly "vnode count"?: number;
    readonly "max cache size"?: number;
    readonly replicas?: number;
  }
  export default class HashRing {
    constructor(
      servers: Record<string, number | ServerOptions> | string[],
      algorithm?: string,
      options?: HashRingOptions,
    );
    get(key: string): string;
  }
}
