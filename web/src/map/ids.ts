/** Every source and layer id the app adds, in one place, so modules never collide. */
export const SOURCE_IDS = {
  grids: 'grids',
} as const;

export const LAYER_IDS = {
  background: 'background',
  gridsFill: 'grids-fill',
  gridsLine: 'grids-line',
} as const;
