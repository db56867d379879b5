/**
 * Class colours of the analysis map. Hot spot colours are ArcGIS's Gi_Bin renderer (hot 99/95/90 % in
 * reds, not significant pale yellow, cold 90/95/99 % in blues), so analysts read them as they do in
 * ArcGIS; emerging classes follow the same hot-red/cold-blue scheme.
 */

/** [bin, colour], hot 99 % first. */
export const HOTSPOT_CLASSES: ReadonlyArray<readonly [number, string]> = [
  [3, '#d62f27'],
  [2, '#ed7551'],
  [1, '#fab984'],
  [0, '#ffffbf'],
  [-1, '#c0ccbe'],
  [-2, '#849eba'],
  [-3, '#4575b5'],
];

export const EMERGING_COLOURS: Readonly<Record<string, string>> = {
  new_hot_spot: '#67000d',
  consecutive_hot_spot: '#a50f15',
  intensifying_hot_spot: '#cb181d',
  persistent_hot_spot: '#ef3b2c',
  diminishing_hot_spot: '#fb6a4a',
  sporadic_hot_spot: '#fc9272',
  oscillating_hot_spot: '#fcbba1',
  historical_hot_spot: '#fee0d2',
  new_cold_spot: '#08306b',
  consecutive_cold_spot: '#08519c',
  intensifying_cold_spot: '#2171b5',
  persistent_cold_spot: '#4292c6',
  diminishing_cold_spot: '#6baed6',
  sporadic_cold_spot: '#9ecae1',
  oscillating_cold_spot: '#c6dbef',
  historical_cold_spot: '#deebf7',
  no_pattern: '#f0f0f0',
};

export const CHOROPLETH_COLOURS = ['#fff5eb', '#fdd0a2', '#fd8d3c', '#d94801', '#7f2704'] as const;
export const CLUSTER_COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'] as const;
