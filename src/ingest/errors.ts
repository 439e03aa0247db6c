/** A job that can never succeed (malformed payload): dead-lettered at once, never retried. */
export class DeadLetterError extends Error {
  override readonly name = 'DeadLetterError';
}

export function isDeadLetterError(value: unknown): value is DeadLetterError {
  return value instanceof DeadLetterError;
}

/** The queue cannot take the batch right now (Redis unreachable, in-process queue at capacity); retry later. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/**
 * The worker can no longer trust its in-memory state of a partition (an unexpected failure mid-batch): the job is
 * given back to the queue and the partition reloaded from its checkpoint and changelog.
 */
export class PartitionRestartError extends Error {
  override readonly name = 'PartitionRestartError';
  constructor(
    readonly partition: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPartitionRestartError(value: unknown): value is PartitionRestartError {
  return value instanceof PartitionRestartError;
}
