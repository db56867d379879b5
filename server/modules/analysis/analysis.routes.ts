import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CellCollectionSchema,
  ClusterRequestSchema,
  ClusterResponseSchema,
  CountsRequestSchema,
  DensityRequestSchema,
  GlobalMoranResponseSchema,
  HotspotRequestSchema,
  HotspotResponseSchema,
  LocalMoranResponseSchema,
  StatisticRequestSchema,
  WeightsRequestSchema,
  WeightsResponseSchema,
} from '../../contracts/analysis';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import type { Database } from '../../db/database';
import { analyseGlobalMoran, analyseHotspots, analyseLocalMoran, clusterFeatures, countInCells, describeWeights, kernelDensity } from './analysis.service';

const errors = { ...commonErrorResponses, 413: ErrorResponseSchema, 422: ErrorResponseSchema } as const;
const permission = { permission: 'analysis:read' } as const;

/** Analysis over supplied GeoJSON (issue #8). The stored-events GETs come with the events module (issue #7). */
export const analysisRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.post(
    '/api/v1/analysis/hotspots',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: 'Getis-Ord Gi* (weights.self true, default) or Gi per feature: G, E[G], Var[G], z, two-sided p, ArcGIS bins, optional FDR',
        body: HotspotRequestSchema,
        response: { 200: HotspotResponseSchema, ...errors },
      },
    },
    async (request) => analyseHotspots(request.body),
  );

  app.post(
    '/api/v1/analysis/local-moran',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: "Local Moran's I per feature (spdep localmoran: Ii, E.Ii, Var.Ii, Z.Ii, p, quadrant)",
        body: StatisticRequestSchema,
        response: { 200: LocalMoranResponseSchema, ...errors },
      },
    },
    async (request) => analyseLocalMoran(request.body),
  );

  app.post(
    '/api/v1/analysis/global-moran',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: "Global Moran's I with E[I], randomisation variance, z and two-sided p",
        body: StatisticRequestSchema,
        response: { 200: GlobalMoranResponseSchema, ...errors },
      },
    },
    async (request) => analyseGlobalMoran(request.body),
  );

  app.post(
    '/api/v1/analysis/weights',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: 'Spatial weights: the neighbour list (and weights) of every feature',
        body: WeightsRequestSchema,
        response: { 200: WeightsResponseSchema, ...errors },
      },
    },
    async (request) => describeWeights(request.body),
  );

  app.post(
    '/api/v1/analysis/clusters',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: 'DBSCAN (PostGIS ST_ClusterDBSCAN semantics): cluster per feature, hull, count and time span per cluster',
        body: ClusterRequestSchema,
        response: { 200: ClusterResponseSchema, ...errors },
      },
    },
    async (request) => clusterFeatures(db, request.body),
  );

  app.post(
    '/api/v1/analysis/counts',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: 'Points per hexagon or square cell (cell size in metres), as GeoJSON cells',
        body: CountsRequestSchema,
        response: { 200: CellCollectionSchema, ...errors },
      },
    },
    async (request) => countInCells(request.body),
  );

  app.post(
    '/api/v1/analysis/density',
    {
      config: permission,
      schema: {
        tags: ['analysis'],
        summary: 'Quartic (biweight) kernel density on square cells, as GeoJSON cells',
        body: DensityRequestSchema,
        response: { 200: CellCollectionSchema, ...errors },
      },
    },
    async (request) => kernelDensity(request.body),
  );
};
