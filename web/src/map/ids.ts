/** Every source and layer id the app adds, in one place, so modules never collide. */
export const SOURCE_IDS = {} as const;
export const LAYER_IDS = {
  background: 'background',
} as const;
