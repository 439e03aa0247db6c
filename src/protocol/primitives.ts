import { z } from 'zod';

// Building blocks shared by the message schemas. Every bound here is a protocol decision recorded in
// docs/protocol.md; change both together.

/** ISO 8601 instant in UTC (`Z` suffix), any sub-second precision. The spec: "All timestamps use ISO 8601 in UTC". */
export const Timestamp = z.iso.datetime({
  message: 'must be an ISO 8601 UTC timestamp, e.g. 2025-06-16T18:45:00.000Z',
});

export const IpAddress = z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' });

const MAC_RE = /^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$/;
/** EUI-48 with `:` or `-` separators, either case. */
export const MacAddress = z.string().regex(MAC_RE, 'must be a MAC address like aa:bb:cc:dd:ee:ff');

/** Agent ids are persistent and unique (spec); we restrict them to a safe, log-friendly alphabet. */
export const AgentId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : @ -');

/** A device id is any non-empty id; the MAC address when one is known (spec), but BLE ids etc. are fine. */
export const DeviceId = z.string().min(1).max(256);

/** An identifier chosen by the sender (alertId, anomalyId, calibrationId). */
export const OpaqueId = z.string().min(1).max(256);

/** snake_case token, for open vocabularies such as recommended actions. */
export const SnakeToken = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be a snake_case token');

export const ShortText = z.string().max(256);
export const LongText = z.string().max(4096);

/** Received signal strength in dBm. Real receivers report about -120 (noise floor) to 0. */
export const Rssi = z.number().min(-120).max(0);

/** Ping round-trip time in milliseconds; a measured ping cannot be negative. */
export const RttMs = z.number().min(0).max(600_000);

/**
 * A calibration measurement's rtt in milliseconds. 802.11mc FTM estimates subtract the responder's turnaround
 * and can come out slightly below zero at short range; dropping or clipping them would bias the range fit, so a
 * calibration rtt may be negative down to -1 µs (-150 m of range, a sanity bound).
 */
export const CalibrationRttMs = z.number().min(-0.001).max(600_000);

/** A probability, confidence or score. */
export const Unit = z.number().min(0).max(1);

/** A percentage 0..100 (CPU, memory, disk, packet loss). */
export const Percent = z.number().min(0).max(100);

export const NonNegative = z.number().min(0);
export const NonNegativeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Floor-plan coordinate in metres; bounded only to reject nonsense. */
export const Metres = z.number().min(-100_000).max(100_000);

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const TrustLevel = z.enum(['trusted', 'unknown', 'suspicious', 'untrusted', 'blocked']);
export type TrustLevel = z.infer<typeof TrustLevel>;

/** Free-form evidence/feature maps: flat values only, so they stay loggable and queryable. */
export const FlatRecord = z.record(z.string().min(1).max(64), z.union([z.number(), z.boolean(), ShortText]));

export const StringList = z.array(ShortText).max(256);
