import { Type, type Static } from 'typebox';

/** A count that is shown only when it is at least 5; smaller ones read "<5" (statistical disclosure control). */
export const SuppressedCountSchema = Type.Union([Type.Integer({ minimum: 5 }), Type.Literal('<5')]);
export type SuppressedCount = Static<typeof SuppressedCountSchema>;

export const PopulationQuerySchema = Type.Object({
  unit: Type.Optional(Type.Union([Type.Literal('grid'), Type.Literal('community')], { default: 'grid' })),
  within: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$', description: 'only units under this division or grid code' })),
});

export const PopulationRowSchema = Type.Object({
  code: Type.String(),
  residents: SuppressedCountSchema,
  households: SuppressedCountSchema,
  floating: SuppressedCountSchema,
  foreign: SuppressedCountSchema,
  aged65Plus: SuppressedCountSchema,
  lowIncome: SuppressedCountSchema,
  elderlyAlone: SuppressedCountSchema,
});
export type PopulationRow = Static<typeof PopulationRowSchema>;

export const PopulationReportSchema = Type.Object({
  unit: Type.Union([Type.Literal('grid'), Type.Literal('community')]),
  threshold: Type.Integer(),
  rows: Type.Array(PopulationRowSchema),
  note: Type.String(),
});
export type PopulationReport = Static<typeof PopulationReportSchema>;
