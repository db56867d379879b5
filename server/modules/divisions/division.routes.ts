import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrorResponses, ErrorResponseSchema } from '../../contracts/common';
import {
  CreateDivisionBodySchema,
  DivisionCodeParamsSchema,
  DivisionDetailSchema,
  DivisionListQuerySchema,
  DivisionListSchema,
  ImportDivisionsBodySchema,
  ImportResultSchema,
  UpdateDivisionBodySchema,
} from '../../contracts/division';
import type { Database } from '../../db/database';
import { importDivisions } from './division-import.service';
import { createDivision, getDivision, listDivisions, updateDivision } from './division.service';

const writeErrors = { ...commonErrorResponses, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 413: ErrorResponseSchema, 415: ErrorResponseSchema, 422: ErrorResponseSchema } as const;

export const divisionRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/divisions',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['divisions'],
        summary: 'Children of a division (no parent: the districts), with whether each has a boundary',
        querystring: DivisionListQuerySchema,
        response: { 200: DivisionListSchema, 404: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => listDivisions(db, request.query),
  );

  app.get(
    '/api/v1/divisions/:code',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['divisions'],
        summary: 'One division with its boundary (stored, or derived from its children) and its ancestors',
        params: DivisionCodeParamsSchema,
        response: { 200: DivisionDetailSchema, 404: ErrorResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => getDivision(db, request.params.code),
  );

  app.post(
    '/api/v1/divisions',
    {
      config: { permission: 'divisions:write' },
      schema: {
        tags: ['divisions'],
        summary: 'Create a district, street or community (GB/T 2260 code under its parent)',
        body: CreateDivisionBodySchema,
        response: { 201: DivisionDetailSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const division = await createDivision(db, request.body);
      return reply.status(201).header('location', `/api/v1/divisions/${division.code}`).send(division);
    },
  );

  app.patch(
    '/api/v1/divisions/:code',
    {
      config: { permission: 'divisions:write' },
      schema: {
        tags: ['divisions'],
        summary: 'Rename a division and/or set its boundary (null clears it)',
        params: DivisionCodeParamsSchema,
        body: UpdateDivisionBodySchema,
        response: { 200: DivisionDetailSchema, ...writeErrors },
      },
    },
    async (request) => updateDivision(db, request.params.code, request.body),
  );

  app.post(
    '/api/v1/divisions/import',
    {
      config: { permission: 'divisions:write' },
      schema: {
        tags: ['divisions'],
        summary: 'Import a hierarchy (CSV) or boundaries (GeoJSON FeatureCollection); upsert by code',
        body: ImportDivisionsBodySchema,
        response: { 200: ImportResultSchema, ...writeErrors },
      },
    },
    async (request) => importDivisions(db, request.body),
  );
};
