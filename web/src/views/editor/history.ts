/**
 * Undo/redo within an editing session. Every edit is recorded as the affected grids before and after it
 * (create: none → one; delete: one → none; split: one → several; merge: several → one; reshape, snap,
 * clip: one → one), and undoing replays the difference against the server: grids only in "after" are
 * deleted, grids in both are put back, grids only in "before" are created again. A re-created grid gets
 * a new id; `idMap` remembers that, so older steps still find it.
 */
import type { GridFeature, GridInput } from '@contracts/grid';
import { createGrid, deleteGrid, getGrid, replaceGrid } from '../../api/layouts';

export interface EditStep {
  before: GridFeature[];
  after: GridFeature[];
}

export class EditHistory {
  private done: EditStep[] = [];
  private undone: EditStep[] = [];
  private readonly idMap = new Map<number, number>();

  constructor(private readonly layoutId: number) {}

  record(step: EditStep): void {
    this.done.push(step);
    this.undone = [];
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  async undo(): Promise<void> {
    const step = this.done.pop();
    if (!step) return;
    await this.apply(step.after, step.before);
    this.undone.push(step);
  }

  async redo(): Promise<void> {
    const step = this.undone.pop();
    if (!step) return;
    await this.apply(step.before, step.after);
    this.done.push(step);
  }

  /** The grid's id now (after any re-creation). */
  resolve(id: number): number {
    let current = id;
    for (let next = this.idMap.get(current); next !== undefined; next = this.idMap.get(current)) current = next;
    return current;
  }

  private async apply(from: GridFeature[], to: GridFeature[]): Promise<void> {
    const fromIds = new Set(from.map((g) => this.resolve(g.id)));
    const toIds = new Set(to.map((g) => this.resolve(g.id)));
    // Deletions first, so restored shapes never overlap what they replace.
    for (const id of fromIds) if (!toIds.has(id)) await deleteGrid(id);
    for (const grid of to) {
      const id = this.resolve(grid.id);
      if (fromIds.has(id)) {
        const current = await getGrid(id);
        await replaceGrid(id, current.properties.version, inputOf(grid));
      } else {
        const created = await createGrid(this.layoutId, inputOf(grid));
        this.idMap.set(id, created.grid.id);
      }
    }
  }
}

/** The submittable form of a grid: geometry, name, kind, code and the free attributes. */
export function inputOf(grid: GridFeature): GridInput {
  const { layoutId: _layout, areaM2: _area, version: _version, ...properties } = grid.properties;
  return { type: 'Feature', geometry: grid.geometry as GridInput['geometry'], properties };
}
