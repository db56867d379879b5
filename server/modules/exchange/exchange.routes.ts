/**
 * Exchange-format routes: layout export and import (the JSON import moved here so that one route
 * takes both a GeoJSON body and a file), division export. Files arrive as the raw body: the parsers
 * for their media types are registered in this plugin only, so no other route starts accepting bytes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../contracts/common';
import { DivisionCodeParamsSchema } from '../../contracts/division';
import {
  BuildingExportQuerySchema,
  BuildingImportQuerySchema,
  DivisionExportQuerySchema,
  EXCHANGE_MEDIA_TYPES,
  EventExportQuerySchema,
  EventImportQuerySchema,
  EventImportReportSchema,
  ExportQuerySchema,
  LayoutImportQuerySchema,
} from '../../contracts/exchange';
import { ImportReportSchema } from '../../contracts/registry';
import { CommunityParamsSchema, ImportLayoutBodySchema, LayoutCollectionSchema } from '../../contracts/layout';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/database';
import { AppError } from '../../http/errors';
import { convertGeometry } from '../../geo/china-crs';
import { importLayout } from '../layouts/layout.service';
import { canonicalCrs } from './exchange-crs';
import { parseFormat, type ExchangeFile } from './exchange';
import { exportDivisions, exportLayout, importLayoutFile } from './exchange.service';
import { exportBuildings, importBuildingsFile } from './building-exchange.service';
import { exportEvents, importEventsFile } from './event-exchange.service';
import { auditActor } from '../../auth/request-auth';
import { registryCipherFromConfig } from '../registry/registry-crypto';
import type { EventContext } from '../events/event.service';

const errors = { ...commonErrorResponses, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 413: ErrorResponseSchema, 415: ErrorResponseSchema, 422: ErrorResponseSchema } as const;
const FileSchema = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the file' });
const FileBodySchema = Type.Unsafe<Buffer>({ description: 'a GeoJSON, CSV, FlatGeobuf or GeoPackage file' });
const FILE_MEDIA_TYPES = [...Object.values(EXCHANGE_MEDIA_TYPES), 'application/octet-stream', 'application/vnd.sqlite3', 'application/x-sqlite3'];
/** Most features a file import takes: the JSON import's own limit (ImportLayoutBodySchema). */
const MAX_IMPORT_FEATURES = (ImportLayoutBodySchema.properties.features as { maxItems?: number }).maxItems ?? 20_000;

const attachment = (file: ExchangeFile): string => `attachment; filename="${file.fileName}"`;
const bytesOf = (file: ExchangeFile): Buffer => Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength);
/** A file body: the raw bytes, or a GeoJSON document the JSON parser already read. */
const fileBody = (body: unknown): Buffer => (Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body ?? null)));
const fileBodySchema = {
  content: {
    'application/json': { schema: Type.Object({}, { additionalProperties: true, description: 'a GeoJSON FeatureCollection' }) },
    ...Object.fromEntries(FILE_MEDIA_TYPES.map((t) => [t, { schema: FileBodySchema }])),
  },
};

export const exchangeRoutes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig; eventContext?: Partial<EventContext> }> = async (app, { db, config, eventContext }) => {
  app.addContentTypeParser(FILE_MEDIA_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const cipher = registryCipherFromConfig(config);
  const events: EventContext = { db, cipher, ...eventContext };

  app.get(
    '/api/v1/buildings/export',
    {
      config: { permission: 'registry:read' },
      schema: {
        tags: ['registry'],
        summary: 'Buildings (live, no households) as a GeoJSON, CSV, FlatGeobuf or GeoPackage file (WGS-84, or GCJ-02/BD-09 on request)',
        querystring: BuildingExportQuerySchema,
        response: { 200: FileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const file = await exportBuildings(db, request.principal, request.query);
      return reply.header('content-disposition', attachment(file)).type(file.mediaType).send(bytesOf(file));
    },
  );

  app.post(
    '/api/v1/buildings/import',
    {
      config: { permission: 'registry:write' },
      schema: {
        tags: ['registry'],
        summary: 'Import buildings from a GeoJSON, CSV, FlatGeobuf or GeoPackage file through the registry import (placement, grid derivation, upsert on natural keys, scope per row)',
        querystring: BuildingImportQuerySchema,
        body: fileBodySchema,
        response: { 200: ImportReportSchema, ...errors },
      },
    },
    async (request) =>
      importBuildingsFile(db, request.principal, cipher, { bytes: fileBody(request.body), contentType: Buffer.isBuffer(request.body) ? request.headers['content-type'] : 'application/geo+json' }, request.query, { maxVertices: config.maxVertices }),
  );

  app.get(
    '/api/v1/events/export',
    {
      config: { permission: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'Events (your scope, listing filters) as a GeoJSON, CSV, FlatGeobuf or GeoPackage file; reporter masked unless reporter=full (registry:unmask + purpose); audited',
        querystring: EventExportQuerySchema,
        response: { 200: FileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const file = await exportEvents(events, request.principal, request.query, auditActor(request));
      return reply.header('content-disposition', attachment(file)).header('cache-control', 'no-store').type(file.mediaType).send(bytesOf(file));
    },
  );

  app.post(
    '/api/v1/events/import',
    {
      config: { permission: 'events:write' },
      schema: {
        tags: ['events'],
        summary: "Report a file's events through the normal intake (routing now, state reported; Idempotency-Key per feature: re-importing creates nothing twice)",
        querystring: EventImportQuerySchema,
        body: fileBodySchema,
        response: { 200: EventImportReportSchema, ...errors },
      },
    },
    async (request) => {
      const p = request.principal;
      return importEventsFile(events, p, { bytes: fileBody(request.body), contentType: Buffer.isBuffer(request.body) ? request.headers['content-type'] : 'application/geo+json' }, request.query, {
        principalKey: p.userId !== null ? `user:${p.userId}` : `token:${p.tokenId ?? 0}`,
        actor: auditActor(request),
      });
    },
  );

  app.get(
    '/api/v1/layouts/:id/export',
    {
      config: { permission: 'layouts:read' },
      schema: {
        tags: ['layouts'],
        summary: 'A layout as a GeoJSON, CSV, FlatGeobuf or GeoPackage file (WGS-84, or GCJ-02/BD-09 on request)',
        params: IdParamsSchema,
        querystring: ExportQuerySchema,
        response: { 200: FileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const file = await exportLayout(db, request.params.id, request.query, request.principal.scope);
      return reply.header('content-disposition', attachment(file)).type(file.mediaType).send(bytesOf(file));
    },
  );

  app.get(
    '/api/v1/divisions/:code/export',
    {
      config: { permission: 'divisions:read' },
      schema: {
        tags: ['divisions'],
        summary: "A division's descendants (streets, communities) with boundaries as a GeoJSON, CSV, FlatGeobuf or GeoPackage file",
        params: DivisionCodeParamsSchema,
        querystring: DivisionExportQuerySchema,
        response: { 200: FileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const file = await exportDivisions(db, request.params.code, request.query);
      return reply.header('content-disposition', attachment(file)).type(file.mediaType).send(bytesOf(file));
    },
  );

  app.post(
    '/api/v1/communities/:code/layouts/import',
    {
      config: { permission: 'layouts:write' },
      schema: {
        tags: ['layouts'],
        summary: 'Import a whole layout as a new draft (all or nothing): a GeoJSON FeatureCollection as JSON, or a GeoJSON, CSV, FlatGeobuf or GeoPackage file as the body',
        params: CommunityParamsSchema,
        querystring: Type.Object({ ...LayoutImportQuerySchema.properties, layer: Type.Optional(Type.String({ maxLength: 200, description: 'GeoPackage: the feature layer to read when it has several' })) }),
        body: {
          content: {
            'application/json': { schema: ImportLayoutBodySchema },
            // Files are checked by the readers, not by a JSON schema: this one accepts any bytes.
            ...Object.fromEntries(FILE_MEDIA_TYPES.map((t) => [t, { schema: FileBodySchema }])),
          },
        },
        response: { 201: LayoutCollectionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const opts = { maxVertices: config.maxVertices, maxFeatures: MAX_IMPORT_FEATURES, scope: request.principal.scope };
      let collection;
      if (Buffer.isBuffer(body)) {
        collection = await importLayoutFile(db, request.params.code, { bytes: body, contentType: request.headers['content-type'] }, request.query, opts);
      } else {
        // A JSON body is GeoJSON: a format naming something else (or nothing known) is a mistake, not a hint to ignore.
        if (request.query.format !== undefined && parseFormat(request.query.format) !== 'geojson') {
          throw new AppError('UNSUPPORTED_FORMAT', 400, `A JSON body is GeoJSON, not ${request.query.format}; send the file's bytes with its media type.`, { in: 'querystring', field: 'format', format: request.query.format });
        }
        const json = body as { name?: string; features: Parameters<typeof importLayout>[2]['features'] };
        const crs = canonicalCrs(request.query.crs);
        const features =
          crs === 'wgs84' ? json.features : json.features.map((f) => ({ ...f, geometry: convertGeometry(f.geometry, crs === 'gcj02' ? 'GCJ02' : 'BD09', 'WGS84') }));
        collection = await importLayout(db, request.params.code, { ...json, ...(request.query.name ? { name: request.query.name } : {}), features }, { fix: request.query.fix === true, maxVertices: config.maxVertices, scope: request.principal.scope });
      }
      return reply.status(201).header('location', `/api/v1/layouts/${collection.layout.id}`).send(collection);
    },
  );
};
