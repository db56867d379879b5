// Pure spatial statistics (no database, no HTTP): weights, Getis-Ord, Moran, FDR, trends.
export * from './normal';
export * from './weights';
export * from './contiguity';
export * from './gal';
export * from './fdr';
export * from './getis-ord';
export * from './moran';
export * from './mann-kendall';
export * from './emerging';
export * from './smoothing';
