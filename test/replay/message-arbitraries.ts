import fc from 'fast-check';

// Protocol messages for property tests of the replay's fast paths: pingResult and deviceUpdate, valid (every
// optional field, bounds, -0, code points near length limits) or wild (any value anywhere).

/** Same JSON-like value: same types, same keys in the same order, numbers equal by Object.is. */
export function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function anyScalar(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, true, false, 0, '', 'x', [], {}),
    fc.double(),
    fc.string({ maxLength: 4 }),
  );
}

const EDGE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  100,
  100.5,
  255,
  256,
  1000,
  1001,
  -100,
  -101,
  -120,
  -120.0001,
  65535,
  65536,
  600_000,
  600_000.1,
  100_000,
  100_000.01,
  -100_000,
  -100_001,
  2 ** 31,
  2 ** 53 - 1,
  2 ** 53,
  1e21,
  -1e-7,
  1e-7,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
];
export const number = fc.oneof(
  fc.constantFrom(...EDGE_NUMBERS),
  fc.double(),
  fc.integer({ min: -200, max: 700_000 }),
  fc.double({ min: -150, max: 150 }),
);
export const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    'a'.repeat(64),
    'a'.repeat(65),
    'é'.repeat(256),
    'é'.repeat(257),
    '😀'.repeat(128),
    '😀'.repeat(129),
  ),
);
const timestamp = fc.oneof(
  fc
    .date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2025-06-16T18:45:00Z',
    '2025-06-16T18:45:00.123456Z',
    '2024-02-29T00:00:00.000Z',
    '2025-02-29T00:00:00.000Z',
    '2025-06-16T18:45:00.000+01:00',
    '2025-06-16T18:45:00.000z',
    '2025-06-16 18:45:00.000Z',
    '2025-06-16T24:00:00.000Z',
    '2025-06-16T18:45Z',
    '2025-13-01T00:00:00.000Z',
    ' 2025-06-16T18:45:00.000Z',
  ),
);
const agentId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,20}$/),
  fc.constantFrom('sim_agent_001', '', 'a'.repeat(128), 'a'.repeat(129), 'agent 1', 'agent\n', 'ägent'),
  text,
);
const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom(
    '198.51.100.1',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4 ',
    '::1',
    '::@1\\',
    'fe80::1%eth0',
    '',
  ),
);
const targetType = fc.oneof(
  fc.constantFrom('gateway', 'anchor', 'access_point', 'device', 'external'),
  fc.constantFrom('Anchor', 'router', ''),
);

/**
 * A value the schema accepts (bounds and -0 included), or — with `wild` — sometimes anything else: a message has a
 * dozen fields, so a few wild ones make most messages invalid.
 */
function eitherOf(wild: boolean) {
  return (valid: fc.Arbitrary<unknown>, other: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    wild ? fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: other, weight: 1 }) : valid;
}
const inRange = (min: number, max: number) =>
  fc.oneof(fc.constantFrom(min, max, Object.is(min, 0) ? -0 : min), fc.double({ min, max, noNaN: true }));
const intRange = (min: number, max: number) => fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
const nonNegative = fc.oneof(fc.constantFrom(0, -0, 1e300), fc.double({ min: 0, max: 1e9, noNaN: true }));
const shortText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', 'kitchen', 'é'.repeat(256), '😀'.repeat(256), 'a'.repeat(256)),
);
const id = fc.oneof(
  fc.stringMatching(/^[a-z0-9:_-]{1,24}$/),
  fc.constantFrom('28:cf:e9:b0:86:f7', 'a', 'a'.repeat(256), '😀'.repeat(256), '\ud83d'),
);

const validAgent = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,20}$/);
const validTime = fc
  .date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString());

export function messageOf(wild: boolean) {
  const either = eitherOf(wild);
  const pingData = fc.record(
    {
      targetIp: either(fc.ipV4(), ip),
      targetType: either(
        fc.constantFrom('gateway', 'anchor', 'access_point', 'device', 'external'),
        targetType,
      ),
      rtt: either(inRange(0, 600_000), number),
      packetSize: either(intRange(0, 65_535), number),
      ttl: either(intRange(0, 255), number),
      sequenceNumber: either(intRange(0, Number.MAX_SAFE_INTEGER), number),
      success: either(fc.boolean(), anyScalar()),
      estimatedDistance: either(nonNegative, number),
      processingOffset: either(nonNegative, number),
      qualityScore: either(inRange(0, 1), number),
      deviceId: either(id, text),
      rssi: either(inRange(-120, 0), number),
    },
    { requiredKeys: ['targetIp', 'targetType', 'sequenceNumber', 'success'], noNullPrototype: !wild },
  );
  const location = fc.record(
    {
      x: either(inRange(-100_000, 100_000), number),
      y: either(inRange(-100_000, 100_000), number),
      confidence: either(inRange(0, 1), number),
      uncertainty: either(nonNegative, number),
      room: either(shortText, text),
      roomProbability: either(inRange(0, 1), number),
      floor: either(intRange(-100, 1000), number),
      model: either(shortText, text),
      modelVersion: either(shortText, text),
    },
    { requiredKeys: ['x', 'y', 'confidence'], noNullPrototype: !wild },
  );
  const performance = fc.record(
    {
      latency: either(nonNegative, number),
      packetLoss: either(inRange(0, 100), number),
      bandwidth: either(nonNegative, number),
    },
    { requiredKeys: [], noNullPrototype: !wild },
  );
  const activity = fc.record(
    {
      portScans: either(intRange(0, Number.MAX_SAFE_INTEGER), number),
      connectionAttempts: either(intRange(0, Number.MAX_SAFE_INTEGER), number),
      dataVolume: either(nonNegative, number),
      services: either(
        fc.oneof(fc.array(shortText, { maxLength: 4 }), fc.constant(Array.from({ length: 256 }, () => 's'))),
        fc.oneof(
          fc.constant(Array.from({ length: 257 }, () => 's')),
          fc.array(anyScalar(), { maxLength: 3 }),
        ),
      ),
      intervalSeconds: either(nonNegative, number),
    },
    { requiredKeys: [], noNullPrototype: !wild },
  );
  const updateData = fc.record(
    {
      deviceId: either(id, text),
      rssi: either(inRange(-120, 0), number),
      location: either(location, anyScalar()),
      performance: either(performance, anyScalar()),
      activity: either(activity, anyScalar()),
    },
    { requiredKeys: ['deviceId'], noNullPrototype: !wild },
  );
  return fc.oneof(
    fc.record(
      {
        type: fc.constant('pingResult'),
        agentId: either(validAgent, agentId),
        timestamp: either(validTime, timestamp),
        data: pingData,
      },
      { noNullPrototype: !wild },
    ),
    fc.record(
      {
        type: fc.constant('deviceUpdate'),
        agentId: either(validAgent, agentId),
        timestamp: either(validTime, timestamp),
        data: updateData,
      },
      { noNullPrototype: !wild },
    ),
  );
}

/** Valid and wild messages, half each. */
export const message = fc.oneof(messageOf(false), messageOf(true));
