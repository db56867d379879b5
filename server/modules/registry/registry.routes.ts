/**
 * /api/v1 registry routes: buildings, households, residents (masked; reveal is audited), the layout
 * impact preview, the monthly report, and who is on duty in a grid. Each route names its permission;
 * services check it again against the row's place (scope).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppConfig } from '../../config';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses, PG_INT_MAX } from '../../contracts/common';
import {
  BuildingInputSchema,
  BuildingListSchema,
  BuildingSchema,
  DeleteBodySchema,
  HouseholdInputSchema,
  HouseholdListSchema,
  HouseholdSchema,
  LayoutImpactSchema,
  ListQuerySchema,
  MonthlyReportQuerySchema,
  MonthlyReportSchema,
  ResidentInputSchema,
  ResidentListQuerySchema,
  ResidentListSchema,
  ResidentSchema,
  ResidentUpdateSchema,
  RevealBodySchema,
  RevealedSchema,
} from '../../contracts/registry';
import type { Database } from '../../db/database';
import { withScope } from '../../db/scoped';
import { etagOf, parseIfMatch, requireIfMatch } from '../../http/preconditions';
import { previewLayoutImpact } from '../layouts/layout.service';
import { createBuilding, deleteBuilding, getBuilding, listBuildingPage, replaceBuilding } from './building.service';
import { registryCipherFromConfig } from './registry-crypto';
import { principalOf, requirePermission } from './registry-access';
import { computeMonthlyReport } from './registry-report.repository';
import {
  createHousehold,
  createResident,
  deleteHousehold,
  deleteResident,
  exportResidents,
  getHousehold,
  getResident,
  listHouseholdPage,
  listResidentPage,
  revealResident,
  updateHousehold,
  updateResidentRecord,
  type RegistryContext,
} from './resident.service';
import { onDutyAt } from './roster.service';
import { importRoutes } from './import/import.routes';
import { organisationRoutes } from './organisations/organisation.routes';
import { staffRoutes } from './staff/staff.routes';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema } as const;
const writeErrors = { ...errors, 409: ErrorResponseSchema, 412: ErrorResponseSchema, 422: ErrorResponseSchema, 428: ErrorResponseSchema } as const;

const OnDutySchema = Type.Object({
  gridCode: Type.String(),
  at: Type.String(),
  onDuty: Type.Union([
    Type.Object({
      staffId: Type.Integer(),
      staffCode: Type.String(),
      name: Type.String(),
      phone: Type.Union([Type.String(), Type.Null()]),
      role: Type.String(),
      level: Type.String(),
      via: Type.String(),
      scopeCode: Type.String(),
    }),
    Type.Null(),
  ]),
});

export const registryRoutes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig }> = async (app, { db, config }) => {
  const ctx: RegistryContext = { db, cipher: registryCipherFromConfig(config) };
  await app.register(organisationRoutes, { db });
  await app.register(staffRoutes, { db });
  await app.register(importRoutes, { db, cipher: ctx.cipher });

  // Buildings ------------------------------------------------------------------------------------
  app.get('/api/v1/buildings', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], summary: 'Buildings (filters: grid, community, bbox, text)', querystring: ListQuerySchema, response: { 200: BuildingListSchema, ...errors } } }, async (request) =>
    listBuildingPage(db, principalOf(request), request.query),
  );
  app.get('/api/v1/buildings/:id', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], params: IdParamsSchema, response: { 200: BuildingSchema, ...errors } } }, async (request, reply) => {
    const b = await getBuilding(db, principalOf(request), request.params.id);
    return reply.header('etag', etagOf(b.version)).send(b);
  });
  app.post('/api/v1/buildings', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], body: BuildingInputSchema, response: { 201: BuildingSchema, ...writeErrors } } }, async (request, reply) => {
    const b = await createBuilding(db, principalOf(request), request.body);
    return reply.status(201).header('etag', etagOf(b.version)).header('location', `/api/v1/buildings/${b.id}`).send(b);
  });
  app.put('/api/v1/buildings/:id', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], params: IdParamsSchema, body: BuildingInputSchema, response: { 200: BuildingSchema, ...writeErrors } } }, async (request, reply) => {
    const b = await replaceBuilding(db, principalOf(request), request.params.id, requireIfMatch(request.headers['if-match']), request.body);
    return reply.header('etag', etagOf(b.version)).send(b);
  });
  app.delete('/api/v1/buildings/:id', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], params: IdParamsSchema, body: DeleteBodySchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await deleteBuilding(db, principalOf(request), request.params.id, parseIfMatch(request.headers['if-match']), request.body.reason);
    return reply.status(204).send(null);
  });

  // Households -----------------------------------------------------------------------------------
  const HouseholdQuery = Type.Object({ ...ListQuerySchema.properties, building: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })) });
  app.get('/api/v1/households', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], querystring: HouseholdQuery, response: { 200: HouseholdListSchema, ...errors } } }, async (request) =>
    listHouseholdPage(ctx, principalOf(request), request.query),
  );
  app.get('/api/v1/households/:id', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], params: IdParamsSchema, response: { 200: HouseholdSchema, ...errors } } }, async (request, reply) => {
    const h = await getHousehold(ctx, principalOf(request), request.params.id);
    return reply.header('etag', etagOf(h.version)).send(h);
  });
  app.post('/api/v1/households', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], body: HouseholdInputSchema, response: { 201: HouseholdSchema, ...writeErrors } } }, async (request, reply) => {
    const h = await createHousehold(ctx, principalOf(request), request.body);
    return reply.status(201).header('etag', etagOf(h.version)).header('location', `/api/v1/households/${h.id}`).send(h);
  });
  app.patch(
    '/api/v1/households/:id',
    { config: { permission: 'registry:write' }, schema: { tags: ['registry'], params: IdParamsSchema, body: Type.Object({ tenure: HouseholdSchema.properties.tenure, effectiveDate: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date' })) }), response: { 200: HouseholdSchema, ...writeErrors } } },
    async (request, reply) => {
      const h = await updateHousehold(ctx, principalOf(request), request.params.id, requireIfMatch(request.headers['if-match']), request.body);
      return reply.header('etag', etagOf(h.version)).send(h);
    },
  );
  app.delete('/api/v1/households/:id', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], params: IdParamsSchema, body: DeleteBodySchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await deleteHousehold(ctx, principalOf(request), request.params.id, parseIfMatch(request.headers['if-match']), request.body.reason);
    return reply.status(204).send(null);
  });

  // Residents ------------------------------------------------------------------------------------
  app.get('/api/v1/residents', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], summary: "A grid's residents (masked), filterable, keyset-paged", querystring: ResidentListQuerySchema, response: { 200: ResidentListSchema, ...errors } } }, async (request) =>
    listResidentPage(ctx, principalOf(request), request.query, request.ip),
  );
  app.get('/api/v1/residents/export', { config: { permission: 'registry:export' }, schema: { tags: ['registry'], summary: 'Masked CSV export (audited)', querystring: ResidentListQuerySchema, response: { 200: Type.String(), ...errors } } }, async (request, reply) => {
    const csv = await exportResidents(ctx, principalOf(request), request.query, request.ip);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="residents.csv"').send(csv);
  });
  app.get('/api/v1/residents/:id', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], params: IdParamsSchema, response: { 200: ResidentSchema, ...errors } } }, async (request, reply) => {
    const r = await getResident(ctx, principalOf(request), request.params.id, request.ip);
    return reply.header('etag', etagOf(r.version)).send(r);
  });
  app.post('/api/v1/residents', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], body: ResidentInputSchema, response: { 201: ResidentSchema, ...writeErrors } } }, async (request, reply) => {
    const r = await createResident(ctx, principalOf(request), request.body);
    return reply.status(201).header('etag', etagOf(r.version)).header('location', `/api/v1/residents/${r.id}`).send(r);
  });
  app.patch('/api/v1/residents/:id', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], params: IdParamsSchema, body: ResidentUpdateSchema, response: { 200: ResidentSchema, ...writeErrors } } }, async (request, reply) => {
    const r = await updateResidentRecord(ctx, principalOf(request), request.params.id, requireIfMatch(request.headers['if-match']), request.body);
    return reply.header('etag', etagOf(r.version)).send(r);
  });
  app.delete('/api/v1/residents/:id', { config: { permission: 'registry:write' }, schema: { tags: ['registry'], params: IdParamsSchema, body: DeleteBodySchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await deleteResident(ctx, principalOf(request), request.params.id, parseIfMatch(request.headers['if-match']), request.body.reason);
    return reply.status(204).send(null);
  });
  app.post('/api/v1/residents/:id/reveal', { config: { permission: 'registry:unmask' }, schema: { tags: ['registry'], summary: 'Full ID number and phone, for a stated purpose (audited)', params: IdParamsSchema, body: RevealBodySchema, response: { 200: RevealedSchema, ...writeErrors } } }, async (request) =>
    revealResident(ctx, principalOf(request), request.params.id, request.body.purpose, request.ip),
  );

  // Reports, impact, duty -----------------------------------------------------------------------
  app.get('/api/v1/registry/monthly', { config: { permission: 'registry:read' }, schema: { tags: ['registry'], summary: 'Births, deaths, moves, floating population, low-income, shop employment for a month', querystring: MonthlyReportQuerySchema, response: { 200: MonthlyReportSchema, ...errors } } }, async (request) => {
    const principal = principalOf(request);
    requirePermission(principal, 'registry:read');
    return withScope(db, principal.scope, (trx) => computeMonthlyReport(trx, request.query.month, request.query.scope), principal);
  });
  app.get('/api/v1/layouts/:id/impact', { config: { permission: 'layouts:read' }, schema: { tags: ['layouts'], summary: 'What publishing this layout would move: buildings, households, residents per grid', params: IdParamsSchema, response: { 200: LayoutImpactSchema, ...errors } } }, async (request) => {
    requirePermission(principalOf(request), 'layouts:read');
    return previewLayoutImpact(db, request.params.id, principalOf(request).scope);
  });
  app.get(
    '/api/v1/grids/:code/on-duty',
    { config: { permission: 'staff:read' }, schema: { tags: ['registry'], summary: 'Who is on duty in a grid at an instant (default now)', params: Type.Object({ code: Type.String({ pattern: '^[0-9]{15}$' }) }), querystring: Type.Object({ at: Type.Optional(Type.String({ format: 'date-time' })) }), response: { 200: OnDutySchema, ...errors } } },
    async (request) => {
      requirePermission(principalOf(request), 'staff:read');
      const at = request.query.at ? new Date(request.query.at) : new Date();
      return { gridCode: request.params.code, at: at.toISOString(), onDuty: await onDutyAt(db, request.params.code, at) };
    },
  );
};
