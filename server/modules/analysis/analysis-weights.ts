// Builds spatial weights from a request's weights specification with the pure core in ./stats.

import { warn, type AnalysisWarning } from '../../contracts/analysis-warnings';
import type { MultiPolygon, Polygon } from 'geojson';
import type { WeightsSpec } from '../../contracts/analysis';
import { reject, type AnalysisInput } from './analysis-input';
import {
  contiguityNeighbours,
  distanceBandNeighbours,
  isSymmetric,
  knnNeighbours,
  linkCount,
  neighboursFromLists,
  parseGal,
  spatialWeights,
  type Neighbours,
  type SpatialWeights,
  type WeightsTransform,
} from './stats';

export interface WeightsDefaults {
  readonly self: boolean;
  readonly transform: WeightsTransform;
  /** Moran's I is defined without self-links. */
  readonly selfAllowed: boolean;
}

export interface BuiltWeights {
  readonly neighbours: Neighbours;
  readonly weights: SpatialWeights;
  readonly used: {
    type: string;
    transform: WeightsTransform;
    self: boolean;
    max?: number;
    k?: number;
    links: number;
    islands: number;
    symmetric: boolean;
  };
  readonly warnings: AnalysisWarning[];
}

function explicitNeighbours(spec: Extract<WeightsSpec, { type: 'explicit' }>, input: AnalysisInput): Neighbours {
  const order = input.ids.map(String);
  if ((spec.gal === undefined) === (spec.neighbours === undefined)) {
    throw reject('WEIGHTS_INVALID', 'Explicit weights need exactly one of "gal" (GAL text) or "neighbours" ({ id: [ids] }).');
  }
  if (spec.gal !== undefined) {
    try {
      return parseGal(spec.gal, order).neighbours;
    } catch (err) {
      throw reject('WEIGHTS_INVALID', `The GAL neighbour list does not fit the features: ${(err as Error).message}`);
    }
  }
  const index = new Map(order.map((id, i) => [id, i]));
  const lists: number[][] = order.map(() => []);
  for (const [id, neighbourIds] of Object.entries(spec.neighbours!)) {
    const i = index.get(id);
    if (i === undefined) throw reject('WEIGHTS_INVALID', `Explicit neighbours name unknown feature id ${id}.`, { id });
    lists[i] = neighbourIds.map((n) => {
      const j = index.get(String(n));
      if (j === undefined) throw reject('WEIGHTS_INVALID', `Explicit neighbours of ${id} name unknown feature id ${String(n)}.`, { id, neighbour: n });
      return j;
    });
  }
  return neighboursFromLists(lists);
}

function neighboursFor(spec: WeightsSpec, input: AnalysisInput): Neighbours {
  switch (spec.type) {
    case 'distance':
      if (spec.binary === false) {
        throw reject('WEIGHTS_UNSUPPORTED', 'Only binary distance bands are supported (binary: true); inverse-distance weights are not.');
      }
      return distanceBandNeighbours(input.xy, spec.max);
    case 'knn':
      if (spec.k >= input.n) throw reject('WEIGHTS_INVALID', `k must be less than the number of features (${input.n}).`, { k: spec.k, n: input.n });
      return knnNeighbours(input.xy, spec.k);
    case 'queen':
    case 'rook': {
      if (input.kind !== 'polygon') {
        throw reject('CONTIGUITY_NEEDS_POLYGONS', `${spec.type} contiguity needs polygons; use distance or knn weights for points.`);
      }
      // Exact vertex matching on the submitted coordinates (never measured, so never projected).
      const geometries = input.features.map((f) => f.geometry as Polygon | MultiPolygon);
      return contiguityNeighbours(geometries, spec.type);
    }
    case 'explicit':
      return explicitNeighbours(spec, input);
    default: {
      const unknown: { type?: unknown } = spec;
      throw reject('WEIGHTS_UNSUPPORTED', `Unknown weights type ${String(unknown.type)}.`);
    }
  }
}

/**
 * `precomputed`: neighbours the caller already knows to be exactly the relation `spec` describes
 * (e.g. adjacent lattice cells by index arithmetic for a distance band just above their spacing);
 * `spec` is still checked and reported.
 */
export function buildWeights(spec: WeightsSpec, input: AnalysisInput, defaults: WeightsDefaults, precomputed?: Neighbours): BuiltWeights {
  const self = spec.self ?? defaults.self;
  if (self && !defaults.selfAllowed) throw reject('WEIGHTS_INVALID', "Moran's I is defined without self-links: leave weights.self unset or false.");
  const transform = spec.transform ?? defaults.transform;
  const neighbours = precomputed ?? neighboursFor(spec, input);
  const weights = spatialWeights(neighbours, { transform, includeSelf: self });
  const warnings: AnalysisWarning[] = [];
  if (weights.islands.length > 0) {
    warnings.push(warn.islands(weights.islands.length));
  }
  const symmetric = isSymmetric(neighbours);
  return {
    neighbours,
    weights,
    used: {
      type: spec.type,
      transform,
      self,
      ...(spec.type === 'distance' ? { max: spec.max } : {}),
      ...(spec.type === 'knn' ? { k: spec.k } : {}),
      links: linkCount(neighbours),
      islands: weights.islands.length,
      symmetric,
    },
    warnings,
  };
}
