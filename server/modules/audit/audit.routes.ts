import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditPageSchema, AuditQuerySchema, AuditVerificationSchema } from '../../contracts/audit';
import { ErrorResponseSchema, commonErrorResponses } from '../../contracts/common';
import type { Database } from '../../db/database';
import { listAudit, verifyAuditChain } from './audit.service';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema } as const;

export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: { tags: ['audit'], summary: 'Audit log, newest first, with filters; page with ?before=<nextBefore>', querystring: AuditQuerySchema, response: { 200: AuditPageSchema, ...errors } },
    },
    async (request) => listAudit(db, request.query),
  );

  app.get(
    '/api/v1/audit/verify',
    {
      config: { permission: 'audit:read' },
      schema: { tags: ['audit'], summary: 'Verify the hash chain; reports the first broken link', response: { 200: AuditVerificationSchema, ...errors } },
    },
    async () => verifyAuditChain(db),
  );
};
