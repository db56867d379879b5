/** /api/v1/staff, /api/v1/grids/{id}/members, /api/v1/grids/{id}/roster. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../../contracts/common';
import {
  AssignmentInputSchema,
  AssignmentParamsSchema,
  DeleteBodySchema,
  ExceptionParamsSchema,
  GridMemberSchema,
  GridMembersQuerySchema,
  GridMembersSchema,
  RosterExceptionInputSchema,
  RosterExceptionSchema,
  RosterPutSchema,
  RosterQuerySchema,
  RosterSchema,
  StaffInputSchema,
  StaffListQuerySchema,
  StaffListSchema,
  StaffSchema,
} from '../../../contracts/registry';
import type { Database } from '../../../db/database';
import { etagOf, parseIfMatch, requireIfMatch } from '../../../http/preconditions';
import { principalOf } from '../registry-access';
import {
  addRosterException,
  assignMember,
  createStaff,
  deleteStaff,
  getGridRoster,
  getStaff,
  listGridMembers,
  listStaffPage,
  putGridShifts,
  removeRosterException,
  replaceStaff,
  unassignMember,
} from './staff.service';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema } as const;
const writeErrors = { ...errors, 409: ErrorResponseSchema, 412: ErrorResponseSchema, 422: ErrorResponseSchema, 428: ErrorResponseSchema } as const;
const tags = ['staff'];

export const staffRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get('/api/v1/staff', { config: { permission: 'staff:read' }, schema: { tags, summary: 'Staff (filters: grid, community, bbox, text, role)', querystring: StaffListQuerySchema, response: { 200: StaffListSchema, ...errors } } }, async (request) =>
    listStaffPage(db, principalOf(request), request.query),
  );
  app.get('/api/v1/staff/:id', { config: { permission: 'staff:read' }, schema: { tags, params: IdParamsSchema, response: { 200: StaffSchema, ...errors } } }, async (request, reply) => {
    const s = await getStaff(db, principalOf(request), request.params.id);
    return reply.header('etag', etagOf(s.version)).send(s);
  });
  app.post('/api/v1/staff', { config: { permission: 'staff:write' }, schema: { tags, body: StaffInputSchema, response: { 201: StaffSchema, ...writeErrors } } }, async (request, reply) => {
    const s = await createStaff(db, principalOf(request), request.body);
    return reply.status(201).header('etag', etagOf(s.version)).header('location', `/api/v1/staff/${s.id}`).send(s);
  });
  app.put('/api/v1/staff/:id', { config: { permission: 'staff:write' }, schema: { tags, params: IdParamsSchema, body: StaffInputSchema, response: { 200: StaffSchema, ...writeErrors } } }, async (request, reply) => {
    const s = await replaceStaff(db, principalOf(request), request.params.id, requireIfMatch(request.headers['if-match']), request.body);
    return reply.header('etag', etagOf(s.version)).send(s);
  });
  app.delete('/api/v1/staff/:id', { config: { permission: 'staff:write' }, schema: { tags, params: IdParamsSchema, body: DeleteBodySchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await deleteStaff(db, principalOf(request), request.params.id, parseIfMatch(request.headers['if-match']), request.body.reason);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/grids/:id/members', { config: { permission: 'staff:read' }, schema: { tags, summary: 'Staff assigned to a grid on a date (default today), with roles and phones', params: IdParamsSchema, querystring: GridMembersQuerySchema, response: { 200: GridMembersSchema, ...errors } } }, async (request) =>
    listGridMembers(db, principalOf(request), request.params.id, request.query.on),
  );
  app.post('/api/v1/grids/:id/members', { config: { permission: 'staff:write' }, schema: { tags, summary: 'Assign a staff member to the grid', params: IdParamsSchema, body: AssignmentInputSchema, response: { 201: GridMemberSchema, ...writeErrors } } }, async (request, reply) =>
    reply.status(201).send(await assignMember(db, principalOf(request), request.params.id, request.body)),
  );
  app.delete('/api/v1/grids/:id/members/:assignmentId', { config: { permission: 'staff:write' }, schema: { tags, summary: 'End an assignment today (kept as history)', params: AssignmentParamsSchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await unassignMember(db, principalOf(request), request.params.id, request.params.assignmentId);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/grids/:id/roster', { config: { permission: 'staff:read' }, schema: { tags, summary: 'Weekly shifts and exceptions (leave, holidays, extra shifts) of a grid', params: IdParamsSchema, querystring: RosterQuerySchema, response: { 200: RosterSchema, ...errors } } }, async (request, reply) => {
    const { version, ...roster } = await getGridRoster(db, principalOf(request), request.params.id, request.query);
    return reply.header('etag', etagOf(version)).send(roster);
  });
  app.put('/api/v1/grids/:id/roster', { config: { permission: 'staff:write' }, schema: { tags, summary: "Replace the grid's weekly shifts (If-Match: the roster's ETag)", params: IdParamsSchema, body: RosterPutSchema, response: { 200: RosterSchema, ...writeErrors } } }, async (request, reply) => {
    const { version, ...roster } = await putGridShifts(db, principalOf(request), request.params.id, requireIfMatch(request.headers['if-match']), request.body.shifts);
    return reply.header('etag', etagOf(version)).send(roster);
  });
  app.post('/api/v1/grids/:id/roster/exceptions', { config: { permission: 'staff:write' }, schema: { tags, summary: 'Add leave, a holiday or an extra shift', params: IdParamsSchema, body: RosterExceptionInputSchema, response: { 201: RosterExceptionSchema, ...writeErrors } } }, async (request, reply) =>
    reply.status(201).send(await addRosterException(db, principalOf(request), request.params.id, request.body)),
  );
  app.delete('/api/v1/grids/:id/roster/exceptions/:exceptionId', { config: { permission: 'staff:write' }, schema: { tags, params: ExceptionParamsSchema, response: { 204: Type.Null(), ...writeErrors } } }, async (request, reply) => {
    await removeRosterException(db, principalOf(request), request.params.id, request.params.exceptionId);
    return reply.status(204).send(null);
  });
};
