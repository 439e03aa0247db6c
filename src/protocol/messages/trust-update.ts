import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, ShortText, SnakeToken, TrustLevel, Unit } from '../primitives.js';

/** One factor of the explainable trust score (extension): what it measured and how much it moved the score. */
export const TrustFactor = z.strictObject({
  name: SnakeToken,
  /** The factor's own value in [0,1] (1 = trustworthy). */
  value: Unit,
  /** Its weight in the score. */
  weight: z.number().min(0).max(1),
  detail: ShortText.optional(),
});
export type TrustFactor = z.infer<typeof TrustFactor>;

export const TrustUpdate = envelope(
  'trustUpdate',
  z.strictObject({
    deviceId: DeviceId,
    previousTrust: TrustLevel,
    newTrust: TrustLevel,
    /** Why: user_approved, user_blocked, behavior_analysis, anomaly_history, ... */
    reason: SnakeToken,
    confidence: Unit,
    /** 0..100, higher = better behaved. */
    behaviorScore: z.number().min(0).max(100),
    factors: z.array(TrustFactor).max(32).optional(),
  }),
);
export type TrustUpdate = z.infer<typeof TrustUpdate>;
