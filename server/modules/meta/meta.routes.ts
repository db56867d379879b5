import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppConfig } from '../../config';
import { ClientConfigSchema } from '../../contracts/meta';

export const metaRoutes: FastifyPluginAsyncTypebox<{ config: AppConfig; version: string }> = async (app, { config, version }) => {
  app.get(
    '/api/v1/config',
    { config: { permission: 'public' }, schema: { tags: ['system'], summary: 'Settings the web app needs', response: { 200: ClientConfigSchema } } },
    async () => ({ basemapStyleUrl: config.basemapStyleUrl ?? null, version }),
  );
};
