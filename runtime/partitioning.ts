/**
 * Which partition an event goes to (spec/delivery-presence-kafka.md §4, normative). Producers set the partition
 * themselves instead of relying on a client's default partitioner, so every client (kafkajs, a Java producer,
 * the in-process log) agrees: Kafka's murmur2 of the UTF-8 key, folded into 4096 fixed buckets, then
 * `bucket % partitions`. The bucket step is fixed forever: it keeps a chat's partition stable for any count
 * that divides 4096.
 */
const M = 0x5bd1e995;
const SEED = 0x9747b28c;
const PARTITION_BUCKETS = 4096;

const utf8 = new TextEncoder();

/** Kafka-Java's `Utils.murmur2`, as an unsigned 32-bit number (`| 0` gives Java's signed int). */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = (SEED ^ length) >>> 0;
  let i = 0;
  // `?? 0` only satisfies noUncheckedIndexedAccess: every index read here is below `length`.
  const at = (index: number): number => bytes[index] ?? 0;
  for (; length - i >= 4; i += 4) {
    let k = at(i) | (at(i + 1) << 8) | (at(i + 2) << 16) | (at(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length - i;
  if (rest === 3) h ^= at(i + 2) << 16;
  if (rest >= 2) h ^= at(i + 1) << 8;
  if (rest >= 1) {
    h ^= at(i);
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
}

/** The bucket (0…4095) of a key; Kafka's `toPositive` is `& 0x7fffffff`. */
export function bucketFor(key: string): number {
  return (murmur2(utf8.encode(key)) & 0x7fffffff) % PARTITION_BUCKETS;
}

export function partitionFor(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a topic has a positive whole number of partitions, not ${partitions}`);
  }
  return bucketFor(key) % partitions;
}
