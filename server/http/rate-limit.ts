/**
 * Request rate limits per client address (@fastify/rate-limit, in-process memory: limits are per
 * server process; behind several processes the per-account and per-address lockout in the database,
 * server/modules/users/auth.service.ts, still holds). Routes opt in with `config: { rateLimit: rateLimitFor('signIn', config) }`.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config';
import { AppError } from './errors';

export type RateLimitClass = 'signIn' | 'publicIntake';

export async function registerRateLimiting(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, ctx) =>
      new AppError('RATE_LIMITED', 429, `Too many requests; try again in ${ctx.after}.`, { limit: ctx.max, retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) }),
  });
}

/** The route config of a rate-limited class: sign-in and refresh, and later public Open311 intake. */
export function rateLimitFor(kind: RateLimitClass, config: AppConfig): { max: number; timeWindow: number } {
  const perMinute = kind === 'signIn' ? config.signInRateLimitPerMinute : config.publicIntakeRateLimitPerMinute;
  return { max: perMinute, timeWindow: 60_000 };
}
