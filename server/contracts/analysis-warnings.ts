/**
 * What an analysis warns about (part of the API contract), each kind made in one place: a stable code and numeric parameters (the
 * web app words them in the reader's language, web/src/views/analysis/messages.ts) and an English
 * message for API clients that show text as it is.
 */
import type { AnalysisWarning } from './analysis';

export type { AnalysisWarning };

const pct = (fraction: number): string => (fraction * 100).toFixed(2);

export const warn = {
  /** The local projection stretches east–west distances by more than half a percent over the data. */
  projectionScale: (error: number): AnalysisWarning => ({
    code: 'projection_scale',
    params: { errorPercent: Number(pct(error)) },
    message: `the local projection's east–west scale error reaches ${pct(error)} % over this extent; narrow the area (bbox, community) for accurate distances`,
  }),
  /** The same, for supplied features spanning many degrees of latitude. */
  latitudeSpan: (degrees: number, error: number): AnalysisWarning => ({
    code: 'latitude_span',
    params: { degrees: Number(degrees.toFixed(2)), errorPercent: Number(pct(error)) },
    message: `the data span ${degrees.toFixed(2)}° of latitude: distances in the local projection are off by up to ${pct(error)} %`,
  }),
  unroutedEvents: (events: number): AnalysisWarning => ({
    code: 'unrouted_events',
    params: { events },
    message: `${events} event(s) were routed to no grid, or to a grid no longer in force here; they are not in any unit`,
  }),
  unitsWithoutPopulation: (units: number, per: 'residents' | 'households'): AnalysisWarning => ({
    code: per === 'residents' ? 'units_without_residents' : 'units_without_households',
    params: { units },
    message: `${units} unit(s) have no ${per} in the registry: no rate, left out of the statistics (null)`,
  }),
  /** Below `limit` features the normal approximation of z-scores and p-values is unreliable. */
  fewFeatures: (n: number, limit: number): AnalysisWarning => ({
    code: 'few_features',
    params: { n, limit },
    message: `fewer than ${limit} features (${n}): z-scores and p-values rest on a normal approximation that is unreliable here`,
  }),
  noStatistic: (minimum: number): AnalysisWarning => ({
    code: 'no_statistic',
    params: { minimum },
    message: `fewer than ${minimum} units: no statistic`,
  }),
  islands: (features: number): AnalysisWarning => ({
    code: 'islands',
    params: { features },
    message: `${features} feature(s) have no neighbours (islands): their local statistics are null`,
  }),
  undefinedVariance: (minimum: number): AnalysisWarning => ({
    code: 'undefined_variance',
    params: { minimum },
    message: `fewer than ${minimum} features with neighbours: the randomisation variance is undefined`,
  }),
  /** Emerging hot spots take the period from `to` and `slices`. */
  fromIgnored: (): AnalysisWarning => ({
    code: 'from_ignored',
    params: {},
    message: '"from" is ignored: the period is the `slices` slices ending at "to"',
  }),
  truncated: (limit: number): AnalysisWarning => ({
    code: 'truncated',
    params: { limit },
    message: `more than ${limit} events match: only the newest ${limit} are returned (narrow the filters, or use counts/density)`,
  }),
};
