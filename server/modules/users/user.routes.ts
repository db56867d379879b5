import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditActor } from '../../auth/request-auth';
import { CreateUserBodySchema, CreatedUserSchema, PasswordResetSchema, UpdateUserBodySchema, UserListSchema, UserSchema } from '../../contracts/auth';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../contracts/common';
import type { Database } from '../../db/database';
import { createUser, getUser, listUsers, resetPassword, updateUser } from './user.service';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 422: ErrorResponseSchema } as const;
const permission = 'users:admin' as const;

export const userRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/users',
    { config: { permission }, schema: { tags: ['users'], summary: 'All accounts', response: { 200: UserListSchema, ...errors } } },
    async () => ({ users: await listUsers(db) }),
  );

  app.post(
    '/api/v1/users',
    {
      config: { permission },
      schema: { tags: ['users'], summary: 'Create an account; without a password a one-time one is returned once', body: CreateUserBodySchema, response: { 201: CreatedUserSchema, ...errors } },
    },
    async (request, reply) => {
      const created = await createUser(db, request.body, auditActor(request));
      return reply.status(201).header('location', `/api/v1/users/${created.user.id}`).header('cache-control', 'no-store').send(created);
    },
  );

  app.get(
    '/api/v1/users/:id',
    { config: { permission }, schema: { tags: ['users'], summary: 'One account', params: IdParamsSchema, response: { 200: UserSchema, ...errors } } },
    async (request) => getUser(db, request.params.id),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { permission, invalidatesPrincipals: true },
      schema: { tags: ['users'], summary: 'Change roles, scope, name; disable (revokes sessions and tokens) or unlock', params: IdParamsSchema, body: UpdateUserBodySchema, response: { 200: UserSchema, ...errors } },
    },
    async (request) => updateUser(db, request.params.id, request.body, auditActor(request)),
  );

  app.post(
    '/api/v1/users/:id/password-reset',
    { config: { permission, invalidatesPrincipals: true }, schema: { tags: ['users'], summary: 'Issue a one-time password (shown once); sessions end now', params: IdParamsSchema, response: { 200: PasswordResetSchema, ...errors } } },
    async (request, reply) => reply.header('cache-control', 'no-store').send(await resetPassword(db, request.params.id, auditActor(request))),
  );
};
