/**
 * Exchange-format routes: layout export and import (the JSON import moved here so that one route
 * takes both a GeoJSON body and a file), division export. Files arrive as the raw body: the parsers
 * for their media types are registered in this plugin only, so no other route starts accepting bytes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import { DivisionCodeParamsSchema } from '../../contracts/division';
import { DivisionExportQuerySchema, EXCHANGE_MEDIA_TYPES, ExportQuerySchema, LayoutImportQuerySchema } from '../../contracts/exchange';
import { CommunityParamsSchema, ImportLayoutBodySchema, LayoutCollectionSchema, LayoutIdParamsSchema } from '../../contracts/layout';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/database';
import { convertGeometry } from '../../geo/china-crs';
import { importLayout } from '../layouts/layout.service';
import { canonicalCrs } from './exchange-crs';
import type { ExchangeFile } from './exchange';
import { exportDivisions, exportLayout, importLayoutFile } from './exchange.service';

const errors = { ...commonErrorResponses, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 413: ErrorResponseSchema, 415: ErrorResponseSchema, 422: ErrorResponseSchema } as const;
const FileSchema = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the file' });
const FileBodySchema = Type.Unsafe<Buffer>({ description: 'a GeoJSON, CSV, FlatGeobuf or GeoPackage file' });
const FILE_MEDIA_TYPES = [...Object.values(EXCHANGE_MEDIA_TYPES), 'application/octet-stream', 'application/vnd.sqlite3', 'application/x-sqlite3'];
/** Most features a file import takes: the JSON import's own limit (ImportLayoutBodySchema). */
const MAX_IMPORT_FEATURES = (ImportLayoutBodySchema.properties.features as { maxItems?: number }).maxItems ?? 20_000;

const attachment = (file: ExchangeFile): string => `attachment; filename="${file.fileName}"`;
const bytesOf = (file: ExchangeFile): Buffer => Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength);

export const exchangeRoutes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig }> = async (app, { db, config }) => {
  app.addContentTypeParser(FILE_MEDIA_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get(
    '/api/v1/layouts/:id/export',
    {
      config: { permission: 'layouts:read' },
      schema: {
        tags: ['layouts'],
        summary: 'A layout as a GeoJSON, CSV, FlatGeobuf or GeoPackage file (WGS-84, or GCJ-02/BD-09 on request)',
        params: LayoutIdParamsSchema,
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
