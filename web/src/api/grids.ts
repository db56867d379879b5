import type { GridCollection } from '@contracts/grid';

export async function fetchPublishedGrids(bbox?: [number, number, number, number]): Promise<GridCollection> {
  const query = bbox ? `?bbox=${bbox.join(',')}` : '';
  const res = await fetch(`/api/v1/grids${query}`, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`grids: HTTP ${res.status}`);
  return (await res.json()) as GridCollection;
}
