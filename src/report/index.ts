export type { ErrorByRoomData, RoomErrors } from './plots/error-by-room.js';
export { errorByRoomSpec } from './plots/error-by-room.js';
export type { ErrorCdfData, ErrorSeries } from './plots/error-cdf.js';
export { errorCdfSpec } from './plots/error-cdf.js';
export type {
  ErrorVector,
  FloorPlanData,
  FloorPlanSite,
  FloorPlanTrack,
  TrackPoint,
} from './plots/floor-plan.js';
export { floorPlanSpec } from './plots/floor-plan.js';
export type { ScoreDistributionData } from './plots/score-distribution.js';
export { scoreDistributionSpec } from './plots/score-distribution.js';
export type { AlertMark, ScorePoint, ScoreTimelineData, TruthWindow } from './plots/score-timeline.js';
export { scoreTimelineSpec, selectTimelineDevices } from './plots/score-timeline.js';
export { escapeHtml, formatCell, renderReport } from './render-report.js';
export { renderSvg } from './render-svg.js';
export type { Cell, Figure, Highlight, MetricTable, ReportSpec } from './report-spec.js';
