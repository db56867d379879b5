/**
 * Analysis over stored events (issue #8): `GET /api/v1/analysis/{counts|density|hotspots|clusters|
 * emerging|points}`. Every answer is a GeoJSON FeatureCollection with the statistics as feature
 * properties plus a `summary`.
 */
import type {
  EventAnalysisSummary,
  EventClustersResponse,
  EventCountsResponse,
  EventDensityResponse,
  EventEmergingResponse,
  EventHotspotsResponse,
  EventPointsResponse,
} from '@contracts/analysis-events';
import { authedJson, queryString } from './events';

export type AnalysisKind = 'counts' | 'density' | 'hotspots' | 'local-moran' | 'clusters' | 'emerging' | 'points';
export type AnalysisUnit = 'grid' | 'hex' | 'square';

export interface AnalysisFilters {
  from?: string;
  to?: string;
  category?: string;
  state?: string;
  channel?: string;
  community?: string;
  /** minLng,minLat,maxLng,maxLat */
  bbox?: string;
}

type PropsOf<R extends { features: Array<{ properties: unknown }> }> = R['features'][number]['properties'];
export type UnitProperties = PropsOf<EventCountsResponse>;
export type HotspotProperties = PropsOf<EventHotspotsResponse>;
export type DensityProperties = PropsOf<EventDensityResponse>;
export type ClusterProperties = PropsOf<EventClustersResponse>;
export type EmergingProperties = PropsOf<EventEmergingResponse>;
export type PointProperties = PropsOf<EventPointsResponse>;

/** Any of the answers: GeoJSON features with the statistics as properties, plus the summary. */
export interface AnalysisCollection<P> {
  type: 'FeatureCollection';
  summary: EventAnalysisSummary;
  features: Array<{ type: 'Feature'; id: string | number; geometry: { type: string; coordinates: unknown }; properties: P }>;
}

export interface PropertiesOf {
  counts: UnitProperties;
  hotspots: HotspotProperties;
  density: DensityProperties;
  clusters: ClusterProperties;
  emerging: EmergingProperties;
  points: PointProperties;
}

export function fetchAnalysis<K extends keyof PropertiesOf>(
  token: string,
  kind: K,
  params: AnalysisFilters & Record<string, string | number | boolean | undefined>,
  signal?: AbortSignal,
): Promise<AnalysisCollection<PropertiesOf[K]>> {
  return authedJson<AnalysisCollection<PropertiesOf[K]>>(token, `/api/v1/analysis/${kind}${queryString(params)}`, signal ? { signal } : {});
}
