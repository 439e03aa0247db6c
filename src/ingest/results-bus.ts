import type { Message } from '../protocol/index.js';

/**
 * Carries what the worker produces (deviceUpdate, mlScoreUpdate, anomalyDetected, trustAlert, trustUpdate) to every
 * hub process; each hub sends a result to the sockets of the agent named by its `agentId` and to every viewer.
 * Redis pub/sub when distributed, in process when embedded.
 */
export interface ResultsBus {
  publish(messages: readonly Message[]): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (message: Message) => void): () => void;
  close(): Promise<void>;
}
