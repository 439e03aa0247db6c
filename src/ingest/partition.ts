import { type IngestMessage, subjectOf } from '../protocol/index.js';

/** Default number of ingestion partitions (BullMQ queues); every hub and worker of a deployment must agree. */
export const DEFAULT_PARTITIONS = 8;

/** FNV-1a, 32 bit: fast, stable across processes and versions (the partition of a device must never change). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The partition of a device: all its events go through one queue, consumed by one worker at a time. */
export function partitionOfSubject(subject: string, partitions: number): number {
  return partitions <= 1 ? 0 : fnv1a(subject) % partitions;
}

export function partitionOf(message: IngestMessage, partitions: number): number {
  return partitionOfSubject(subjectOf(message), partitions);
}
