/** Markets are spread over N partition queues; each partition has one consumer, which keeps per-market order. */
export function partitionOf(marketTicker: string, partitions: number): number {
  // FNV-1a: stable across processes and restarts (unlike any in-memory hash).
  let hash = 0x811c9dc5;
  for (let i = 0; i < marketTicker.length; i++) {
    hash ^= marketTicker.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

export function partitionQueueName(base: string, partition: number): string {
  return `${base}-p${partition}`;
}
