/**
 * POST /api/v1/registry/import?entity=…&mode=…: small imports through the API (CSV, NDJSON or GeoJSON
 * body, at most API_IMPORT_MAX_ROWS rows and BODY_LIMIT_BYTES), with the CLI's validation code and
 * report. Rows outside the caller's scope are rejected (OUT_OF_SCOPE). All-or-nothing with bad rows →
 * 422 IMPORT_FAILED whose details are the report.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponseSchema, commonErrorResponses } from '../../../contracts/common';
import { ImportQuerySchema, ImportReportSchema } from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { AppError } from '../../../http/errors';
import type { RegistryCipher } from '../registry-crypto';
import { principalOf } from '../registry-access';
import type { ImportFormat } from './import-formats';
import { importSmall } from './import.service';

const FORMAT_OF_TYPE: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/geo+json': 'geojson',
  'application/json': 'geojson',
};

export const importRoutes: FastifyPluginAsyncTypebox<{ db: Database; cipher: RegistryCipher }> = async (app, { db, cipher }) => {
  // Bodies stay text: the import parses them with the CLI's streaming readers (this plugin only).
  app.addContentTypeParser(['text/csv', 'application/x-ndjson', 'application/geo+json'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/api/v1/registry/import',
    {
      config: { permission: 'registry:write' },
      schema: {
        tags: ['registry'],
        summary: 'Import buildings, households, residents, organisations or staff (small files; the CLI for large ones)',
        querystring: ImportQuerySchema,
        response: { 200: ImportReportSchema, ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 413: ErrorResponseSchema, 415: ErrorResponseSchema, 422: ErrorResponseSchema },
      },
    },
    async (request) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const format = request.query.format ?? FORMAT_OF_TYPE[type];
      if (!format) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send text/csv, application/x-ndjson or application/geo+json (or say ?format=).', { in: 'headers', field: 'content-type', contentType: type });
      const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null);
      const q = request.query;
      return importSmall(db, principalOf(request), body, {
        entity: q.entity,
        format,
        mode: q.mode ?? 'all-or-nothing',
        cipher,
        community: q.community ?? null,
        makeValid: q.makeValid ?? false,
        ...(q.effectiveDate ? { effectiveDate: q.effectiveDate } : {}),
      });
    },
  );
};
