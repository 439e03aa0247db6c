// The contract between the worker (and replay) and the positioning models. The worker keeps one track state per
// device and calls these pure functions; it never looks inside the state.

/** One measurement of the link between the located device and one anchor of the site. */
export interface AnchorReading {
  /** The anchor's id in the site file (the probe's `targetIp`). */
  anchorId: string;
  /** dBm. */
  rssi?: number;
  /** Round-trip time in milliseconds, as measured (before any offset). */
  rtt?: number;
  /** Milliseconds to subtract from rtt, when the agent reported one. */
  processingOffset?: number;
  /** Epoch milliseconds. */
  t: number;
}

export interface PositionEstimate {
  /** Metres, site coordinates. */
  x: number;
  y: number;
  /** Radius in metres meant to contain the truth 95% of the time (from the covariance). */
  uncertainty: number;
  /** In [0,1]; higher = smaller uncertainty. Documented mapping in docs/positioning.md. */
  confidence: number;
  /** 2-D covariance in m²: [σxx, σxy, σyy]. */
  covariance: readonly [number, number, number];
  room?: string;
  roomProbability?: number;
  floor?: number;
  /** Which estimator produced it: multilateration | fingerprint | knn | fusion. */
  model: string;
}

export interface PositionUpdate<S> {
  state: S;
  /** Null while the device is not locatable (too few anchors heard, no model). */
  estimate: PositionEstimate | null;
}

export interface Positioner<S = unknown> {
  /** Model version, as in the model directory. */
  readonly version: string;
  /** A fresh per-device state (JSON-serialisable). */
  initialState(): S;
  /** Folds time-ordered readings of one device into its state. Pure: same inputs, same outputs. */
  update(state: S, readings: readonly AnchorReading[], nowMs: number): PositionUpdate<S>;
}
