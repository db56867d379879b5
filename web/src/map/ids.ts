/** Every source and layer id the shell and the common layers add, in one place, so modules never collide. */
export const SOURCE_IDS = {
  grids: 'grids',
  divisions: 'base-divisions',
  roads: 'base-roads',
  buildings: 'base-buildings',
} as const;

export const LAYER_IDS = {
  background: 'background',
  gridsFill: 'grids-fill',
  gridsLine: 'grids-line',
  gridsLabel: 'grids-label',
  divisionsLine: 'divisions-line',
  roadsLine: 'roads-line',
  buildingsFill: 'buildings-fill',
} as const;
