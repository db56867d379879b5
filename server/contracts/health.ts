import { Type, type Static } from 'typebox';

export const HealthSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    database: Type.Object({
      ok: Type.Boolean(),
      postgres: Type.Union([Type.String(), Type.Null()], { description: 'PostgreSQL server version' }),
      postgis: Type.Union([Type.String(), Type.Null()], { description: 'PostGIS library version' }),
      error: Type.Optional(Type.String()),
    }),
    migrations: Type.Object({
      current: Type.Union([Type.String(), Type.Null()], { description: 'Name of the newest applied migration' }),
    }),
  },
);
export type Health = Static<typeof HealthSchema>;
