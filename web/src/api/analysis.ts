/**
 * Analysis over stored events (issue #8): `GET /api/v1/analysis/{counts|density|hotspots|clusters|
 * emerging|points}`. Every answer is a GeoJSON FeatureCollection with the statistics as feature
 * properties plus a `summary`.
 *
 * The wire types mirror the analysis branch's contract (server/contracts/analysis-events.ts), which is
 * not merged into this branch yet; once it is, these become `import type` from '@contracts/analysis-events'.
 */
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

export interface AnalysisSummary {
  n: number;
  events: number;
  unit?: string;
  value?: string;
  parameters: Record<string, unknown>;
  warnings: string[];
}

export interface UnitProperties {
  /** Grid code, or "i,j" lattice index. */
  unit: string;
  name?: string;
  count: number;
  rate?: number | null;
  ebRate?: number | null;
  population?: number | '<5' | null;
}
export interface HotspotProperties extends UnitProperties {
  gi: number | null;
  z: number | null;
  p: number | null;
  /** ArcGIS Gi_Bin: ±3/±2/±1 = 99/95/90 % hot (+) or cold (−). */
  bin: number;
}
export interface DensityProperties {
  i: number;
  j: number;
  /** Events per km² (quartic kernel). */
  density: number;
}
export interface ClusterProperties {
  cluster: number;
  count: number;
  first: string;
  last: string;
}
export interface EmergingProperties extends UnitProperties {
  category: string;
  tau: number | null;
  trendZ: number | null;
  trendP: number | null;
  hotSlices: number;
  coldSlices: number;
}
export interface PointProperties {
  id: number;
  category: string;
  state: string;
  reportedAt: string;
}

export interface AnalysisCollection<P> {
  type: 'FeatureCollection';
  summary: AnalysisSummary;
  features: Array<{ type: 'Feature'; id: string | number; geometry: GeoJSON.Geometry; properties: P }>;
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
