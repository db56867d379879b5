import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { auditActor } from '../../auth/request-auth';
import {
  ApiTokenListSchema,
  ChangePasswordBodySchema,
  CreateApiTokenBodySchema,
  CreatedApiTokenSchema,
  MeSchema,
  RefreshBodySchema,
  SessionTokensSchema,
  SignInBodySchema,
} from '../../contracts/auth';
import { ErrorResponseSchema, IdParamsSchema, commonErrorResponses } from '../../contracts/common';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/database';
import { rateLimitFor } from '../../http/rate-limit';
import { createApiToken, listVisibleApiTokens, revokeApiToken } from './api-token.service';
import { changePassword, meOfPrincipal, refreshSession, signIn, signOut } from './auth.service';

const errors = { ...commonErrorResponses, 401: ErrorResponseSchema, 403: ErrorResponseSchema } as const;

export const authRoutes: FastifyPluginAsyncTypebox<{ db: Database; config: AppConfig }> = async (app, { db, config }) => {
  const settings = { accessTokenTtlSeconds: config.accessTokenTtlSeconds, refreshTokenTtlSeconds: config.refreshTokenTtlSeconds };
  const client = (request: { ip: string; headers: { 'user-agent'?: string | undefined } }): { ip: string; userAgent: string | null } => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
  const noStore = { 'cache-control': 'no-store' };

  app.post(
    '/api/v1/auth/sign-in',
    {
      config: { permission: 'public', rateLimit: rateLimitFor('signIn', config) },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username and password: a short-lived access token and a rotating refresh token',
        body: SignInBodySchema,
        response: { 200: SessionTokensSchema, 423: ErrorResponseSchema, 429: ErrorResponseSchema, ...errors },
      },
    },
    async (request, reply) => reply.headers(noStore).send(await signIn(db, request.body.username, request.body.password, client(request), settings)),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      config: { permission: 'public', invalidatesPrincipals: true, rateLimit: rateLimitFor('signIn', config) },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token (once) for a new pair; a reused refresh token revokes its whole sign-in',
        body: RefreshBodySchema,
        response: { 200: SessionTokensSchema, 429: ErrorResponseSchema, ...errors },
      },
    },
    async (request, reply) => reply.headers(noStore).send(await refreshSession(db, request.body.refreshToken, client(request), settings)),
  );

  app.post(
    '/api/v1/auth/sign-out',
    { config: { permission: 'authenticated', invalidatesPrincipals: true }, schema: { tags: ['auth'], summary: 'Revoke this session (access and refresh token)', response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await signOut(db, request.principal, request.ip);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/me',
    { config: { permission: 'authenticated' }, schema: { tags: ['auth'], summary: 'Who am I: roles, permissions, scope', response: { 200: MeSchema, ...errors } } },
    async (request) => meOfPrincipal(request.principal),
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { permission: 'authenticated', invalidatesPrincipals: true, rateLimit: rateLimitFor('signIn', config) },
      schema: { tags: ['auth'], summary: 'Change your password; your other sessions are revoked', body: ChangePasswordBodySchema, response: { 204: Type.Null(), 422: ErrorResponseSchema, 429: ErrorResponseSchema, ...errors } },
    },
    async (request, reply) => {
      await changePassword(db, request.principal, request.body.currentPassword, request.body.newPassword, request.ip);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/tokens',
    { config: { permission: 'authenticated' }, schema: { tags: ['auth'], summary: 'Your API tokens (everyone\'s for users:admin), without secrets', response: { 200: ApiTokenListSchema, ...errors } } },
    async (request) => ({ tokens: await listVisibleApiTokens(db, request.principal) }),
  );

  app.post(
    '/api/v1/auth/tokens',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'Create an API token for a machine client (roles ⊆ yours, scope ⊆ yours); the token is shown once',
        body: CreateApiTokenBodySchema,
        response: { 201: CreatedApiTokenSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).headers(noStore).send(await createApiToken(db, request.principal, request.body, auditActor(request))),
  );

  app.delete(
    '/api/v1/auth/tokens/:id',
    { config: { permission: 'authenticated', invalidatesPrincipals: true }, schema: { tags: ['auth'], summary: 'Revoke an API token', params: IdParamsSchema, response: { 204: Type.Null(), 404: ErrorResponseSchema, ...errors } } },
    async (request, reply) => {
      await revokeApiToken(db, request.principal, request.params.id, auditActor(request));
      return reply.status(204).send(null);
    },
  );
};
