import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, NonNegative, Unit } from '../primitives.js';

export const MlScores = z
  .strictObject({
    anomalyScore: Unit.optional(),
    trustScore: Unit.optional(),
    performanceScore: Unit.optional(),
    locationConfidence: Unit.optional(),
  })
  .refine((s) => Object.keys(s).length > 0, { message: 'scores needs at least one score' });

export const MlScoreUpdate = envelope(
  'mlScoreUpdate',
  z.strictObject({
    deviceId: DeviceId,
    scores: MlScores,
    /** Only what a documented model computes; the hub never fills placeholders. */
    predictions: z
      .strictObject({
        failureRisk: Unit.optional(),
        maintenanceNeeded: z.boolean().optional(),
        /** Years. */
        expectedLifetime: NonNegative.optional(),
      })
      .optional(),
  }),
);
export type MlScoreUpdate = z.infer<typeof MlScoreUpdate>;
