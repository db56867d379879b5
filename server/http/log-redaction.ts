/**
 * What the request log says about a request. Fastify's default writes the whole URL, and a search of
 * residents by ID number (GET /api/v1/residents?idNumber=…) carries the full number in it: the log
 * would keep what every response masks. Values of personal-data query parameters are left out.
 */
import type { FastifyRequest } from 'fastify';

/** Query parameters that carry personal data (searched for, so they must be exact in the URL). */
const PERSONAL_PARAMS = /([?&](?:idNumber|id_number|phone)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(PERSONAL_PARAMS, '$1[redacted]');
}

/** Fastify's default `req` serializer, with the URL redacted. */
export const logSerializers = {
  req(request: FastifyRequest): Record<string, unknown> {
    return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
  },
};
