import { Type, type Static } from 'typebox';

/** What the web app needs to know about this deployment before drawing the map. */
export const ClientConfigSchema = Type.Object(
  {
    basemapStyleUrl: Type.Union([Type.String(), Type.Null()], { description: 'Optional external basemap style; null = offline default style' }),
    version: Type.String(),
  },
);
export type ClientConfig = Static<typeof ClientConfigSchema>;
