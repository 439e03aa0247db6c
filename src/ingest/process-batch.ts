import { gateAlert } from '../models/anomaly/alert-gate.js';
import { anomalyDetectedData, mlScoreUpdateData } from '../models/anomaly/anomaly-messages.js';
import { eventsFromMessageAt } from '../models/anomaly/events-from-messages.js';
import type {
  BehaviourAssessment,
  BehaviourEvent,
  DeviceProfile,
  TrustAssessment,
} from '../models/contracts/behaviour.js';
import type { AnchorReading, PositionEstimate } from '../models/contracts/positioning.js';
import { trustMessages } from '../models/trust/trust-messages.js';
import {
  type AnomalyType,
  type IngestMessage,
  isLostProbe,
  type Location,
  type Message,
  type MessageOf,
  subjectOf,
  type TrustLevel,
} from '../protocol/index.js';
import type { DevicePatch } from '../store/device-registry.js';
import { counterKey, type DeviceControl, type DeviceWrite } from '../store/ingest-store.js';
import { type DeviceState, newDeviceState, type PartitionState, type ProbeSample } from './device-state.js';
import type { IngestRecord } from './ingest-sink.js';
import { fnv1a } from './partition.js';
import type { WorkerModels } from './worker-models.js';

// The worker's core: a deterministic function of (state, records, models, now). No I/O — the live worker wraps it
// with dedupe, storage and publishing; the replay tool calls it directly.

export interface ProcessOptions {
  /** Probes kept per anchor link in a device's measurement window. @defaultValue 16 */
  windowSize: number;
  /** Minimum ms between two routine mlScoreUpdates of a device (anomalies and trust changes go out at once). @defaultValue 1000 */
  scoreIntervalMs: number;
  /** Minimum ms between two routine registry writes of a device (position, rssi, lastSeen). @defaultValue 1000 */
  registryIntervalMs: number;
  /**
   * How often the behaviour model scores a device. @defaultValue the model's own `data.params.scoreIntervalMs`
   * (the interval its alert budget assumes), else 60000
   */
  assessIntervalMs?: number;
  /**
   * An anomaly episode ends after this long without an anomalous score; one anomalyDetected per episode.
   * @defaultValue the model's window (`data.config.windowMs`), else 300000
   */
  anomalyQuietMs?: number;
  /** Anomaly times remembered per device for the trust score. @defaultValue 50 */
  maxAnomalyTimes: number;
  /** Told of every behaviour assessment (recent history for retraining, the alert log). Must not throw. */
  onAssessed?: (window: AssessedWindow) => void;
}

/** A behaviour assessment the worker made, and the alert it raised, if any. */
export interface AssessedWindow {
  deviceId: string;
  agentId: string;
  /** The batch time, epoch ms. */
  t: number;
  assessment: BehaviourAssessment;
  /** The anomalyDetected data when this assessment opened an episode (an alert went out), else null. */
  alert: MessageOf<'anomalyDetected'>['data'] | null;
}

export const DEFAULT_PROCESS_OPTIONS: ProcessOptions = {
  windowSize: 16,
  scoreIntervalMs: 1000,
  registryIntervalMs: 1000,
  maxAnomalyTimes: 50,
};

export interface ProcessContext {
  options?: Partial<ProcessOptions>;
  /** User-set fields of the registry (trust level, approval) for the devices of the batch. */
  control?: ReadonlyMap<string, DeviceControl>;
}

export interface RecordFailure {
  records: IngestRecord[];
  reason: string;
}

export interface BatchOutput {
  state: PartitionState;
  /** deviceUpdate, mlScoreUpdate, anomalyDetected, trustUpdate, trustAlert — each with the producing agent's id. */
  results: Message[];
  /** Registry writes. */
  devices: DeviceWrite[];
  calibrations: Array<MessageOf<'pingCalibration'>>;
  /** Effect counters (`probe:<agentId>` …). */
  counters: Map<string, number>;
  /** Records a model failed on: dead-lettered by the caller; the rest of the batch is unaffected. */
  failures: RecordFailure[];
}

/**
 * Applies `records` (already deduplicated, in acceptance order) to `state` and returns what to store and publish.
 * Takes ownership of `state` (it is updated in place and returned). Deterministic for equal inputs.
 */
export function processBatch(
  state: PartitionState,
  records: readonly IngestRecord[],
  models: WorkerModels,
  now: number,
  context: ProcessContext = {},
): BatchOutput {
  const options = { ...DEFAULT_PROCESS_OPTIONS, ...context.options };
  const out: BatchOutput = {
    state,
    results: [],
    devices: [],
    calibrations: [],
    counters: new Map(),
    failures: [],
  };
  // Group by device, keeping each device's records in order (devices are independent of each other).
  const byDevice = new Map<string, IngestRecord[]>();
  for (const record of records) {
    const subject = subjectOf(record.message);
    const list = byDevice.get(subject);
    if (list) list.push(record);
    else byDevice.set(subject, [record]);
  }
  const iso = new Date(now).toISOString();
  for (const [deviceId, recs] of byDevice) {
    let device = state.devices.get(deviceId);
    const isNew = device === undefined;
    device ??= newDeviceState(deviceId, recs[0]!.message.agentId, now);
    const step = new DeviceStep(device, models, now, iso, options, context.control?.get(deviceId));
    try {
      step.run(recs);
    } catch (error) {
      // A model threw: its state for this device may be half-updated, so start it afresh next time.
      device.positioner = null;
      device.behaviour = null;
      out.failures.push({ records: recs, reason: `ML_ERROR: ${(error as Error).message}`.slice(0, 1000) });
      if (!isNew) state.dirty.add(deviceId);
      continue;
    }
    if (isNew) state.devices.set(deviceId, device);
    state.dirty.add(deviceId);
    out.results.push(...step.results);
    if (step.patch !== null) out.devices.push({ deviceId, agentId: device.agentId, patch: step.patch });
    out.calibrations.push(...step.calibrations);
    for (const [key, n] of step.counters) out.counters.set(key, (out.counters.get(key) ?? 0) + n);
  }
  return out;
}

type ResultType = 'deviceUpdate' | 'mlScoreUpdate' | 'anomalyDetected' | 'trustUpdate' | 'trustAlert';

/** Processes one device's records of one batch. */
class DeviceStep {
  readonly results: Message[] = [];
  readonly calibrations: Array<MessageOf<'pingCalibration'>> = [];
  readonly counters = new Map<string, number>();
  patch: DevicePatch | null = null;
  private readings: AnchorReading[] = [];
  /** The counter key last added to (a device's records mostly come from one agent). */
  private counterOf = { kind: '', agentId: '', key: '' };
  private behaviourTouched = false;
  private sawProbe = false;
  private forceRegistry = false;
  private metadata: DevicePatch = {};
  private alert: MessageOf<'anomalyDetected'>['data'] | null = null;

  constructor(
    private readonly d: DeviceState,
    private readonly models: WorkerModels,
    private readonly now: number,
    /** `now` as ISO 8601. */
    private readonly iso: string,
    private readonly options: ProcessOptions,
    private readonly control: DeviceControl | undefined,
  ) {}

  run(records: readonly IngestRecord[]): void {
    const d = this.d;
    this.syncModelStates();
    if (this.control?.trustLevel !== undefined) d.trustLevel = this.control.trustLevel;
    const registryLevel = d.trustLevel;
    const decisionChanged = this.control !== undefined && this.control.userDecision !== d.userDecision;
    if (this.control !== undefined) {
      if (this.control.userDecision === undefined) delete d.userDecision;
      else d.userDecision = this.control.userDecision;
    }
    for (const record of records) this.apply(record.message);
    d.lastSeenMs = Math.max(d.lastSeenMs, this.now);

    const estimate = this.locate();
    if (this.sawProbe || estimate !== null) this.emitDeviceUpdate(estimate);
    const assessment = this.behaviourTouched ? this.assessBehaviour() : null;
    const anomaly = assessment !== null ? this.gateAnomaly(assessment) : false;
    if (assessment !== null) {
      this.options.onAssessed?.({
        deviceId: d.deviceId,
        agentId: d.agentId,
        t: this.now,
        assessment,
        alert: this.alert,
      });
    }
    const trust = this.models.trust === null ? null : this.models.trust.assess(this.profile(), this.now);
    const trustChanged = trust !== null ? this.applyTrust(trust, decisionChanged, registryLevel) : false;
    this.emitScores(assessment, trust, estimate, anomaly || trustChanged);
    this.buildPatch(estimate);
  }

  /** A result addressed to the agent whose messages produced it, stamped with the batch time. */
  private message<T extends ResultType>(type: T, data: MessageOf<T>['data']): MessageOf<T> {
    return { type, agentId: this.d.agentId, timestamp: this.iso, data } as MessageOf<T>;
  }

  private add(counter: 'probe' | 'calibration' | 'event', agentId: string): void {
    const c = this.counterOf;
    if (c.kind !== counter || c.agentId !== agentId)
      this.counterOf = { kind: counter, agentId, key: counterKey(counter, agentId) };
    const key = this.counterOf.key;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  private apply(m: IngestMessage): void {
    const d = this.d;
    d.agentId = m.agentId;
    const t = Date.parse(m.timestamp);
    // The behaviour model sees exactly the events training derives from a capture (one shared mapping).
    if (this.models.behaviour !== null && d.behaviour !== null) {
      for (const { event } of eventsFromMessageAt(m, t)) this.observe(event);
    }
    switch (m.type) {
      case 'pingResult': {
        d.probes += 1;
        this.add('probe', m.agentId);
        this.sawProbe = true;
        const data = m.data;
        const sample: ProbeSample = { t, success: data.success };
        if (data.success && data.rtt !== undefined) sample.rtt = data.rtt;
        if (data.rssi !== undefined) {
          sample.rssi = data.rssi;
          d.rssi = data.rssi;
        }
        if (data.processingOffset !== undefined) sample.processingOffset = data.processingOffset;
        this.pushSample(data.targetIp, sample);
        const reading = readingOf(data.targetIp, sample);
        if (reading) this.readings.push(reading);
        return;
      }
      case 'pingCalibration':
        d.calibrations += 1;
        this.add('calibration', m.agentId);
        this.calibrations.push(m);
        return;
      case 'deviceJoin': {
        d.events += 1;
        this.add('event', m.agentId);
        const data = m.data;
        d.online = true;
        const p = d.profile;
        if (data.macAddress !== undefined) p.macAddress = data.macAddress;
        if (data.vendor !== undefined) p.vendor = data.vendor;
        if (data.deviceType !== undefined) p.deviceType = data.deviceType;
        if (data.hostname !== undefined) p.hostname = data.hostname;
        if (data.services !== undefined) p.services = [...data.services];
        if (data.rssi !== undefined) d.rssi = data.rssi;
        if (data.firstSeen !== undefined) d.firstSeenMs = Math.min(d.firstSeenMs, Date.parse(data.firstSeen));
        const meta = this.metadata;
        meta.online = true;
        if (data.hostname !== undefined) meta.hostname = data.hostname;
        if (data.ipAddress !== undefined) meta.ipAddress = data.ipAddress;
        if (data.macAddress !== undefined) meta.macAddress = data.macAddress;
        if (data.vendor !== undefined) meta.vendor = data.vendor;
        if (data.deviceType !== undefined) meta.deviceType = data.deviceType;
        if (data.protocols !== undefined) meta.protocols = [...data.protocols];
        if (data.services !== undefined) meta.services = [...data.services];
        this.forceRegistry = true;
        return;
      }
      case 'deviceLeave':
        d.events += 1;
        this.add('event', m.agentId);
        d.online = false;
        this.metadata.online = false;
        this.forceRegistry = true;
        return;
      case 'deviceUpdate': {
        d.events += 1;
        this.add('event', m.agentId);
        const data = m.data;
        if (data.rssi !== undefined) d.rssi = data.rssi;
        const perf = data.performance;
        if (perf !== undefined) {
          const copy: NonNullable<DevicePatch['performance']> = {};
          if (perf.latency !== undefined) copy.latency = perf.latency;
          if (perf.packetLoss !== undefined) copy.packetLoss = perf.packetLoss;
          if (perf.bandwidth !== undefined) copy.bandwidth = perf.bandwidth;
          this.metadata.performance = copy;
        }
        const act = data.activity;
        if (act?.portScans !== undefined) d.profile.portScans += act.portScans;
        if (act?.connectionAttempts !== undefined) d.profile.connectionAttempts += act.connectionAttempts;
        if (act?.services !== undefined) {
          d.profile.services = [...act.services];
          this.metadata.services = [...act.services];
        }
        return;
      }
    }
  }

  private pushSample(anchorId: string, sample: ProbeSample): void {
    let window = this.d.anchors.get(anchorId);
    if (!window) {
      window = [];
      this.d.anchors.set(anchorId, window);
    }
    window.push(sample);
    if (window.length > this.options.windowSize) window.splice(0, window.length - this.options.windowSize);
  }

  private observe(event: BehaviourEvent): void {
    const model = this.models.behaviour;
    if (model === null || this.d.behaviour === null) return;
    this.d.behaviour.state = model.observe(this.d.behaviour.state, event);
    this.behaviourTouched = true;
  }

  /** A new model version starts from a fresh state, warmed with the device's measurement windows. */
  private syncModelStates(): void {
    const d = this.d;
    const { positioner, behaviour } = this.models;
    if (positioner === null) d.positioner = null;
    else if (d.positioner === null || d.positioner.version !== positioner.version) {
      let state = positioner.initialState();
      const warm = this.windowReadings();
      if (warm.length > 0) state = positioner.update(state, warm, this.now).state;
      d.positioner = { version: positioner.version, state };
    }
    if (behaviour === null) d.behaviour = null;
    // Keyed by the model's state version: a retrained model over the same features keeps each device's history.
    else if (d.behaviour === null || d.behaviour.version !== (behaviour.stateVersion ?? behaviour.version)) {
      let state = behaviour.initialState(d.deviceId);
      for (const [anchorId, sample] of this.windowSamples()) {
        const event: BehaviourEvent = { kind: 'probe', t: sample.t, anchorId, success: sample.success };
        if (sample.rtt !== undefined) event.rtt = sample.rtt;
        if (sample.rssi !== undefined) event.rssi = sample.rssi;
        state = behaviour.observe(state, event);
      }
      d.behaviour = { version: behaviour.stateVersion ?? behaviour.version, state };
    }
  }

  private windowSamples(): Array<[string, ProbeSample]> {
    const all: Array<[string, ProbeSample]> = [];
    for (const [anchorId, window] of this.d.anchors) for (const s of window) all.push([anchorId, s]);
    return all.sort((a, b) => a[1].t - b[1].t);
  }

  private windowReadings(): AnchorReading[] {
    const out: AnchorReading[] = [];
    for (const [anchorId, sample] of this.windowSamples()) {
      const r = readingOf(anchorId, sample);
      if (r) out.push(r);
    }
    return out;
  }

  private locate(): PositionEstimate | null {
    const model = this.models.positioner;
    const d = this.d;
    if (model === null || d.positioner === null || this.readings.length === 0) return null;
    this.readings.sort((a, b) => a.t - b.t);
    const update = model.update(d.positioner.state, this.readings, this.now);
    d.positioner.state = update.state;
    const e = update.estimate;
    if (e === null || !Number.isFinite(e.x) || !Number.isFinite(e.y)) return null;
    d.estimate = e;
    d.estimateMs = this.now;
    // Not fed to the behaviour model: training derives its location events from the agents' messages only, and
    // the live model must see what training saw.
    return e;
  }

  private emitDeviceUpdate(estimate: PositionEstimate | null): void {
    const d = this.d;
    const data: MessageOf<'deviceUpdate'>['data'] = { deviceId: d.deviceId };
    if (d.rssi !== undefined) data.rssi = d.rssi;
    const location = estimate !== null ? locationOf(estimate, this.models.positioner?.version) : null;
    if (location !== null) data.location = location;
    const perf = performanceOf(d);
    if (perf !== null) data.performance = perf;
    if (data.rssi === undefined && data.location === undefined && data.performance === undefined) return;
    this.results.push(this.message('deviceUpdate', data));
  }

  /**
   * The behaviour model scores a device at its own cadence (its alert budget assumes one score per interval per
   * device), on a batch that brought the device new events.
   */
  private assessBehaviour(): BehaviourAssessment | null {
    const model = this.models.behaviour;
    const d = this.d;
    if (model === null || d.behaviour === null) return null;
    const interval = this.options.assessIntervalMs ?? cadenceOf(model).scoreIntervalMs;
    if (this.now - d.lastAssessMs < interval) return null;
    const assessment = model.assess(d.behaviour.state, this.now);
    // Too little history yet (null): try again on the next batch rather than an interval later.
    if (assessment !== null) d.lastAssessMs = this.now;
    return assessment;
  }

  /** One anomalyDetected per episode: a device anomalous for ten minutes is one anomaly (alert-gate.ts). */
  private gateAnomaly(a: BehaviourAssessment): boolean {
    const d = this.d;
    const quietMs =
      this.options.anomalyQuietMs ??
      (this.models.behaviour ? cadenceOf(this.models.behaviour).quietMs : 300_000);
    const gated = gateAlert(d.alertGate, a, this.now, quietMs);
    d.alertGate = gated.gate;
    return gated.emit ? this.emitAnomaly(a) : false;
  }

  private emitAnomaly(a: BehaviourAssessment): boolean {
    const d = this.d;
    const type: AnomalyType = a.anomalyType ?? 'behavior_change';
    d.profile.anomalyTimes.push(this.now);
    if (d.profile.anomalyTimes.length > this.options.maxAnomalyTimes) d.profile.anomalyTimes.shift();
    const data = anomalyDetectedData(
      d.deviceId,
      a,
      `anom-${fnv1a(d.deviceId).toString(36)}-${this.now.toString(36)}-${type}`,
    );
    // The model's own tokens, made safe for the protocol's snake_case fields should a model stray.
    data.mlModel = snake(data.mlModel, 'anomaly_model');
    data.recommendedAction = snake(data.recommendedAction, 'investigate_device');
    data.features = flatFeatures(data.features);
    this.results.push(this.message('anomalyDetected', data));
    this.alert = data;
    this.forceRegistry = true;
    return true;
  }

  private profile(): DeviceProfile {
    const d = this.d;
    const p = d.profile;
    const profile: DeviceProfile = {
      deviceId: d.deviceId,
      firstSeen: d.firstSeenMs,
      anomalyTimes: p.anomalyTimes,
      portScans: p.portScans,
      connectionAttempts: p.connectionAttempts,
    };
    if (p.macAddress !== undefined) profile.macAddress = p.macAddress;
    if (p.vendor !== undefined) profile.vendor = p.vendor;
    if (p.deviceType !== undefined) profile.deviceType = p.deviceType;
    if (p.hostname !== undefined) profile.hostname = p.hostname;
    if (p.services !== undefined) profile.services = p.services;
    if (d.userDecision !== undefined) profile.userDecision = d.userDecision;
    return profile;
  }

  /**
   * The trust model's verdict → trustUpdate on a level change (or a first assessment) and trustAlerts on
   * transitions (src/models/trust/trust-messages.ts). True when the level changed.
   */
  private applyTrust(trust: TrustAssessment, decisionChanged: boolean, registryLevel: TrustLevel): boolean {
    const d = this.d;
    const previous = d.trustAssessment;
    d.trustAssessment = trust;
    d.trustScore = unit(trust.score);
    d.trustFactors = trust.factors.slice(0, 32);
    const changed = trust.level !== registryLevel;
    d.trustLevel = trust.level;
    if (changed) this.forceRegistry = true;
    let n = 0;
    const { trustUpdate, trustAlerts } = trustMessages(
      previous,
      trust,
      this.profile(),
      () => `alert-${fnv1a(d.deviceId).toString(36)}-${this.now.toString(36)}-${n++}`,
    );
    // A user's decision was already announced by the hub that took it; do not say it twice.
    if (trustUpdate !== undefined && !(decisionChanged && !changed)) {
      trustUpdate.factors = trustUpdate.factors?.slice(0, 32);
      if (trustUpdate.factors === undefined) delete trustUpdate.factors;
      this.results.push(this.message('trustUpdate', trustUpdate));
    }
    for (const alert of trustAlerts) {
      alert.recommendedAction = snake(alert.recommendedAction, 'investigate_device');
      alert.evidence = flatFeatures(alert.evidence);
      this.results.push(this.message('trustAlert', alert));
    }
    return changed;
  }

  private emitScores(
    a: BehaviourAssessment | null,
    trust: TrustAssessment | null,
    estimate: PositionEstimate | null,
    urgent: boolean,
  ): void {
    const d = this.d;
    if (!urgent && this.now - d.lastScoresMs < this.options.scoreIntervalMs) return;
    const parts: Parameters<typeof mlScoreUpdateData>[1] = { behaviour: a, trust };
    if (estimate !== null) parts.locationConfidence = estimate.confidence;
    const data = mlScoreUpdateData(d.deviceId, parts);
    if (data === null) return;
    d.lastScoresMs = this.now;
    this.results.push(this.message('mlScoreUpdate', data));
  }

  private buildPatch(estimate: PositionEstimate | null): void {
    const d = this.d;
    if (!this.forceRegistry && this.now - d.lastRegistryMs < this.options.registryIntervalMs) return;
    d.lastRegistryMs = this.now;
    const patch: DevicePatch = {
      ...this.metadata,
      lastSeen: this.iso,
      online: d.online,
      trustLevel: d.trustLevel,
    };
    if (d.rssi !== undefined) patch.rssi = d.rssi;
    const latest = estimate ?? d.estimate;
    const location = latest !== null ? locationOf(latest, d.positioner?.version) : null;
    if (location !== null) patch.location = location;
    const perf = performanceOf(d);
    if (perf !== null) patch.performance = { ...perf, ...this.metadata.performance };
    if (d.trustScore !== undefined) patch.trustScore = d.trustScore;
    if (d.trustFactors !== undefined) patch.trustFactors = d.trustFactors;
    const lastAnomaly = d.profile.anomalyTimes[d.profile.anomalyTimes.length - 1];
    if (lastAnomaly !== undefined) patch.lastAnomalyAt = new Date(lastAnomaly).toISOString();
    const scores: NonNullable<DevicePatch['scores']> = {};
    if (d.trustScore !== undefined) scores.trustScore = d.trustScore;
    if (latest !== null) scores.locationConfidence = unit(latest.confidence);
    if (Object.keys(scores).length > 0) patch.scores = scores;
    this.patch = patch;
  }
}

/**
 * The scoring interval and episode length a behaviour model was trained for, when it says (the project's
 * AnomalyModel keeps them in `data`); the BehaviourModel contract itself does not carry them.
 */
function cadenceOf(model: object): { scoreIntervalMs: number; quietMs: number } {
  const data = (
    model as { data?: { params?: { scoreIntervalMs?: unknown }; config?: { windowMs?: unknown } } }
  ).data;
  const interval = data?.params?.scoreIntervalMs;
  const window = data?.config?.windowMs;
  return {
    scoreIntervalMs: typeof interval === 'number' && interval >= 0 ? interval : 60_000,
    quietMs: typeof window === 'number' && window > 0 ? window : 300_000,
  };
}

function readingOf(anchorId: string, s: ProbeSample): AnchorReading | null {
  if (s.rtt === undefined && s.rssi === undefined) return null;
  const r: AnchorReading = { anchorId, t: s.t };
  if (s.rtt !== undefined) r.rtt = s.rtt;
  if (s.rssi !== undefined) r.rssi = s.rssi;
  if (s.processingOffset !== undefined) r.processingOffset = s.processingOffset;
  return r;
}

/**
 * Latency (mean RTT of the window's successful probes, ms) and packet loss (% of the pings sent that were lost) over
 * every anchor link. A probe is lost when it failed and nothing was heard. A BLE sighting (`success: false` with an
 * `rssi`: a beacon has no round trip to time) is a reading but not a ping, so it counts in neither the losses nor the
 * pings sent — the same denominators as the anomaly model's loss feature (src/models/anomaly/features.ts), so the
 * figure a viewer sees is the one the model scores. A device with readings but no pings shows 0 % loss.
 */
function performanceOf(d: DeviceState): { latency?: number; packetLoss: number } | null {
  let readings = 0;
  let pings = 0;
  let failed = 0;
  let rttSum = 0;
  let rttN = 0;
  for (const window of d.anchors.values()) {
    for (const s of window) {
      readings += 1;
      if (isLostProbe(s)) {
        pings += 1;
        failed += 1;
      } else if (s.success) {
        pings += 1;
        if (s.rtt !== undefined) {
          rttSum += s.rtt;
          rttN += 1;
        }
      }
    }
  }
  if (readings === 0) return null;
  const perf: { latency?: number; packetLoss: number } = {
    packetLoss: pings === 0 ? 0 : round3((100 * failed) / pings),
  };
  if (rttN > 0) perf.latency = round3(rttSum / rttN);
  return perf;
}

function locationOf(e: PositionEstimate, version: string | undefined): Location | null {
  if (!Number.isFinite(e.x) || !Number.isFinite(e.y)) return null;
  const loc: Location = {
    x: clamp(e.x, -100_000, 100_000),
    y: clamp(e.y, -100_000, 100_000),
    confidence: unit(e.confidence),
  };
  if (Number.isFinite(e.uncertainty) && e.uncertainty >= 0) loc.uncertainty = e.uncertainty;
  if (e.room !== undefined && e.room.length > 0) loc.room = e.room.slice(0, 256);
  if (e.roomProbability !== undefined && Number.isFinite(e.roomProbability)) {
    loc.roomProbability = unit(e.roomProbability);
  }
  if (e.floor !== undefined && Number.isInteger(e.floor) && e.floor >= -100 && e.floor <= 1000)
    loc.floor = e.floor;
  if (e.model.length > 0) loc.model = e.model.slice(0, 256);
  if (version !== undefined) loc.modelVersion = version.slice(0, 256);
  return loc;
}

function flatFeatures(
  features: Record<string, number | boolean | string>,
): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const [key, value] of Object.entries(features).slice(0, 64)) {
    const k = key.slice(0, 64);
    if (k.length === 0) continue;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) out[k] = value;
    } else if (typeof value === 'string') out[k] = value.slice(0, 256);
    else out[k] = value;
  }
  return out;
}

function snake(value: string, fallback: string): string {
  const token = value
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .slice(0, 64);
  return token.length > 0 ? token : fallback;
}

function unit(value: number): number {
  return Number.isFinite(value) ? clamp(value, 0, 1) : 0;
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
