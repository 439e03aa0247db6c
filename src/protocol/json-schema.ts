import { z } from 'zod';
import { Message } from './message.js';

/** The protocol as JSON Schema (draft 2020-12), for clients in other languages. Generated, committed, checked in CI. */
export function protocolJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Message, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $id: 'https://smartblueprint.dev/schema/websocket-protocol.json',
    title: 'SmartBlueprint WebSocket protocol v1.0.0',
    description: 'Generated from src/protocol by `npm run gen`; do not edit by hand.',
    ...schema,
  };
}
