import { z } from 'zod';
import { envelope } from '../envelope.js';
import { NonNegativeInt, ShortText, SnakeToken, StringList, Timestamp } from '../primitives.js';

export const IntegrityViolation = z.union([
  ShortText.min(1),
  z.strictObject({ kind: SnakeToken, description: ShortText, itemId: ShortText.optional() }),
]);

export const DataIntegrityReport = envelope(
  'dataIntegrityReport',
  z
    .strictObject({
      status: z.enum(['clean', 'suspicious', 'violations']),
      scannedItems: NonNegativeInt,
      suspiciousItems: NonNegativeInt,
      violationsFound: z.array(IntegrityViolation).max(1024),
      authenticDataSources: StringList,
      lastCleanScan: Timestamp.optional(),
    })
    .refine((d) => d.suspiciousItems <= d.scannedItems, {
      message: 'suspiciousItems cannot exceed scannedItems',
      path: ['suspiciousItems'],
    }),
);
export type DataIntegrityReport = z.infer<typeof DataIntegrityReport>;
