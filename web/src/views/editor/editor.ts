/**
 * The grid editor's controller: which community and layout are open, what is selected, and every edit.
 *
 * The server's draft is the working copy: split, merge, delete, snap, clip and fill-gap go to the server
 * at once; a drawn or reshaped polygon stays in the drawing tool until the planner saves it (PUT with
 * If-Match: a newer version on the server shows both and lets the planner choose). After each edit the
 * layout, its validation report and the impact preview are fetched again, so the map, the balance bars
 * and the problem list always show the server's truth. Each edit is recorded for undo/redo.
 */
import { gridLabel } from './grid-label';
import type { DivisionDetail } from '@contracts/division';
import type { GridFeature, GridInput } from '@contracts/grid';
import type { Layout, LayoutCollection } from '@contracts/layout';
import type { LayoutProblem, LayoutValidationReport } from '@contracts/layout-validation';
import type { LayoutImpact } from '@contracts/registry';
import { validatePolygonGeometry } from '@geo/validate-geometry';
import type { Feature, Geometry, LineString, Polygon } from 'geojson';
import type { MapMouseEvent } from 'maplibre-gl';
import { ApiError } from '../../api/client';
import * as api from '../../api/layouts';
import { t, type MessageKey } from '../../i18n/i18n';
import { boundsOf } from '../../map/create-map';
import { GridDraw } from '../../map/draw/grid-draw';
import { ringsOf, type SnapTargets } from '../../map/draw/snap';
import { hidePublishedGridsOf } from '../../map/layers/published-grids-layer';
import { button, el } from '../../ui/dom';
import type { ViewContext } from '../view';
import { renderBalance } from './balance-panel';
import { mountDivisionPicker, type DivisionPicker } from './division-picker';
import { layoutOptionParams } from './layout-option';
import { editorMapLegend } from './map-legend';
import { EDITOR_LAYER_IDS, EditorLayers, type EditorGridProperties } from './editor-layers';
import { EditHistory, inputOf, type EditStep } from './history';
import { renderValidation } from './validation-panel';
import { errorText } from '../../api/error-text';

type Pending = { kind: 'new' } | { kind: 'edit'; grid: GridFeature };

/**
 * Undo/redo history per layout for this page session: kept outside the editor object, so it survives
 * the remount of a language switch or a visit to another view.
 */
const histories = new Map<number, EditHistory>();
function historyOf(layoutId: number): EditHistory {
  let history = histories.get(layoutId);
  if (!history) histories.set(layoutId, (history = new EditHistory(layoutId)));
  return history;
}

export class Editor {
  private readonly layers = new EditorLayers();
  private readonly draw = new GridDraw();
  private community: DivisionDetail | null = null;
  private layouts: Layout[] = [];
  private collection: LayoutCollection | null = null;
  private report: LayoutValidationReport | null = null;
  private impact: LayoutImpact | null = null;
  private history: EditHistory | null = null;
  /** The layout open now (its collection may still be loading). */
  private layoutId: number | null = null;
  private selected: number[] = [];
  private pending: Pending | null = null;
  private conflict: GridFeature | null = null;
  private busy = false;
  private revision = 0;
  private snapTargets: SnapTargets = [];
  private boxZoomWasEnabled = true;
  private readonly legend: HTMLElement;
  private readonly picker: DivisionPicker;
  /** What the planner typed as the next draft's name (kept across re-renders of the layouts box). */
  private draftName = '';
  private readonly openCode: (code: string | null) => void;
  private readonly ui: Record<'layouts' | 'tools' | 'message' | 'validation' | 'balance' | 'publish', HTMLElement>;

  constructor(private readonly ctx: ViewContext) {
    const section = (name: string): HTMLElement => {
      const s = el('section', `editor-${name}`);
      s.dataset.testid = `editor-${name}`;
      return s;
    };
    const picker = section('picker');
    this.ui = { layouts: section('layouts'), tools: section('tools'), message: section('message'), validation: section('validation'), balance: section('balance'), publish: section('publish') };
    this.ui.message.setAttribute('role', 'status');
    ctx.panel.append(picker, this.ui.layouts, this.ui.tools, this.ui.message, this.ui.publish, this.ui.validation, this.ui.balance);

    this.layers.add(ctx.map);
    this.legend = editorMapLegend();
    ctx.map.getContainer().append(this.legend);
    this.draw.add(ctx.map, {
      snapTargets: () => this.snapTargets,
      onPolygon: () => {
        this.pending = { kind: 'new' };
        this.renderTools();
      },
      onLine: (line) => void this.split(line),
      onEdit: () => this.renderTools(),
    });
    ctx.map.on('click', EDITOR_LAYER_IDS.gridsFill, this.onMapClick);
    ctx.map.on('click', EDITOR_LAYER_IDS.communities, this.onCommunityClick);
    document.addEventListener('keydown', this.onKey);
    // Shift-click adds to the selection here, so Shift-drag box zoom is off while the editor is open.
    this.boxZoomWasEnabled = ctx.map.boxZoom.isEnabled();
    ctx.map.boxZoom.disable();
    const initial = ctx.url.get('community');
    const open = (code: string | null): void => void this.openCommunity(code).catch((err: unknown) => this.say(t('editor.failed', { message: errorText(err) }), true));
    this.openCode = open;
    this.picker = mountDivisionPicker(picker, initial, open);
    if (initial) open(initial);
  }

  destroy(): void {
    this.ctx.map.off('click', EDITOR_LAYER_IDS.gridsFill, this.onMapClick);
    this.ctx.map.off('click', EDITOR_LAYER_IDS.communities, this.onCommunityClick);
    if (this.boxZoomWasEnabled) this.ctx.map.boxZoom.enable();
    document.removeEventListener('keydown', this.onKey);
    this.draw.remove();
    this.layers.remove();
    this.legend.remove();
    hidePublishedGridsOf(this.ctx.map, null);
    delete document.body.dataset.editorRevision;
  }

  // Community and layout ------------------------------------------------------------------------

  private async openCommunity(code: string | null): Promise<void> {
    const initial = this.community === null && code === this.ctx.url.get('community');
    this.draw.reset();
    this.pending = null;
    const [community, layouts] = code ? await Promise.all([api.getDivision(code), api.listLayouts(code)]) : [null, []];
    this.community = community;
    this.layouts = layouts;
    hidePublishedGridsOf(this.ctx.map, code);
    this.layers.setBoundary((this.community?.boundary as Geometry | null | undefined) ?? null);
    if (!initial) this.ctx.url.set({ community: code, layout: null, grid: null });
    if (!this.community) {
      this.collection = null;
      this.layoutId = null;
      this.render();
      return;
    }
    // A shared link keeps its map position; choosing a community zooms to it.
    const bounds = this.community.boundary ? boundsOf(this.community.boundary as Geometry) : undefined;
    if (bounds && !(initial && this.ctx.url.get('at'))) this.ctx.map.fitBounds(bounds, { padding: 30, duration: 0 });
    // A layout named in the link that this community does not have is said so, not swapped silently
    // for another (UX review finding 15): the planner chooses from the list.
    const wanted = initial ? (this.ctx.url.get('layout') ?? '') : '';
    const named = wanted === '' ? undefined : this.layouts.find((l) => String(l.id) === wanted);
    const layout = wanted === '' ? (this.layouts.find((l) => l.status === 'draft') ?? this.layouts.find((l) => l.status === 'published')) : named;
    if (initial) this.selected = (this.ctx.url.get('grid') ?? '').split(',').map(Number).filter((n) => n > 0);
    if (layout) await this.openLayout(layout.id, initial);
    else {
      if (wanted !== '') this.say(t('editor.layoutNotFound', { id: wanted }), true);
      this.collection = null;
      this.layoutId = null;
      this.render();
    }
  }

  private async openLayout(id: number, keepSelection = false): Promise<void> {
    this.say('');
    this.draw.reset();
    this.pending = null;
    this.conflict = null;
    this.layers.setConflict(null);
    this.layers.setProblem(null);
    this.history = historyOf(id);
    this.layoutId = id;
    if (!keepSelection) this.selected = [];
    this.ctx.url.set({ layout: String(id) });
    await this.reload();
  }

  /** Fetches the layout, its validation and impact again, and redraws everything. */
  private async reload(): Promise<void> {
    const id = this.layoutId;
    if (id === null) return;
    this.collection = await api.getLayout(id);
    [this.report, this.impact] = await Promise.all([
      api.validateLayout(id).catch(() => null),
      api.layoutImpact(id).catch(() => null),
    ]);
    const ids = new Set(this.collection.features.map((f) => f.id));
    this.select(this.selected.filter((g) => ids.has(g)));
    this.updateMap();
    this.render();
    document.body.dataset.editorRevision = String(++this.revision);
  }

  private updateMap(): void {
    const status = new Map(this.report?.households.map((h) => [h.gridId, h.status]) ?? []);
    const features = (this.collection?.features ?? []).map(
      (g): Feature<Geometry, EditorGridProperties> => ({
        type: 'Feature',
        id: g.id,
        geometry: g.geometry as Geometry,
        properties: { id: g.id, label: gridLabel(g.properties.code, g.id), status: status.get(g.id) ?? 'unknown' },
      }),
    );
    this.layers.setGrids(features);
    this.layers.setSelected(this.selected, []);
    this.snapTargets = ringsOf([...(this.collection?.features.map((f) => f.geometry) ?? []), ...(this.community?.boundary ? [this.community.boundary] : [])]);
  }

  // Selection ---------------------------------------------------------------------------------------

  private readonly onMapClick = (event: MapMouseEvent & { features?: Array<{ id?: string | number }> }): void => {
    if (this.draw.current !== 'idle' || this.busy) return;
    const id = Number(event.features?.[0]?.id);
    if (!id) return;
    const shift = event.originalEvent.shiftKey || event.originalEvent.ctrlKey || event.originalEvent.metaKey;
    this.select(shift ? (this.selected.includes(id) ? this.selected.filter((s) => s !== id) : [...this.selected, id]) : [id]);
    this.renderTools();
  };

  /** A click on another community than the open one opens it (UX review finding 17). */
  private readonly onCommunityClick = (event: MapMouseEvent & { features?: Array<{ properties?: Record<string, unknown> | null }> }): void => {
    if (this.draw.current !== 'idle' || this.busy || this.pending !== null) return;
    const code = event.features?.[0]?.properties?.code;
    if (typeof code !== 'string' || code === this.community?.code) return;
    void this.picker.show(code);
    this.openCode(code);
  };

  /** Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z or Ctrl+Y redoes, Escape drops what is being drawn. */
  private readonly onKey = (event: KeyboardEvent): void => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLTextAreaElement) return;
    const idle = !this.busy && this.pending === null && this.draw.current === 'idle' && this.collection?.layout.status === 'draft';
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (mod && key === 'z' && !event.shiftKey && idle && this.history?.canUndo) void this.run(async () => (await this.history?.undo(), null));
    else if (mod && ((key === 'z' && event.shiftKey) || key === 'y') && idle && this.history?.canRedo) void this.run(async () => (await this.history?.redo(), null));
    else if (key === 'escape' && this.draw.current !== 'idle') this.discard();
    else return;
    event.preventDefault();
  };

  private select(ids: number[]): void {
    const previous = this.selected;
    this.selected = ids;
    this.layers.setSelected(ids, previous);
    this.ctx.url.set({ grid: ids.length ? ids.join(',') : null });
  }

  private grid(id: number): GridFeature | undefined {
    return this.collection?.features.find((f) => f.id === id);
  }

  // Edits -------------------------------------------------------------------------------------------

  /**
   * Runs one server edit: busy state, error message, history step, reload. `done` words the outcome
   * (default "saved"); it is read after the reload, which would otherwise overwrite a message the edit set.
   */
  private async run(edit: () => Promise<EditStep | null>, done: () => string = () => t('editor.saved')): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.say(t('editor.busy'));
    this.renderTools();
    try {
      const step = await edit();
      if (step) this.history?.record(step);
      await this.reload();
      this.say(done());
      return true;
    } catch (err) {
      // A save conflict is explained in the pending box, with the choice; anything else is said here.
      if (this.conflict && err instanceof ApiError && (err.status === 412 || err.status === 409)) this.say('');
      else this.say(t('editor.failed', { message: errorText(err) }), true);
      return false;
    } finally {
      this.busy = false;
      this.renderTools();
      this.renderPublish();
    }
  }

  private async save(): Promise<void> {
    const layoutId = this.collection?.layout.id;
    const polygon = this.draw.edited();
    const pending = this.pending;
    if (!layoutId || !polygon || !pending) return;
    // Gate 2 in the browser first: the same checks the server runs, with the same words.
    const check = validatePolygonGeometry(polygon);
    if (!check.valid) {
      this.say(t('editor.invalid', { reason: check.message }), true);
      return;
    }
    const ok = await this.run(async () => {
      if (pending.kind === 'new') {
        const { grid } = await api.createGrid(layoutId, { type: 'Feature', geometry: polygon as GridInput['geometry'], properties: { name: t('editor.newGridName'), kind: 'general' } });
        this.selected = [grid.id];
        return { before: [], after: [grid] };
      }
      const base = this.conflict ?? pending.grid;
      try {
        const { grid } = await api.replaceGrid(pending.grid.id, base.properties.version, { ...inputOf(pending.grid), geometry: polygon as GridInput['geometry'] });
        return { before: [pending.grid], after: [grid] };
      } catch (err) {
        if (err instanceof ApiError && (err.status === 412 || err.status === 409)) {
          this.conflict = await api.getGrid(pending.grid.id);
          this.layers.setConflict(this.conflict.geometry as Geometry);
        }
        throw err;
      }
    });
    if (ok) {
      this.pending = null;
      this.conflict = null;
      this.layers.setConflict(null);
      this.draw.reset();
      this.select(this.selected);
    }
    this.renderTools();
  }

  private discard(): void {
    this.draw.reset();
    this.pending = null;
    this.conflict = null;
    this.layers.setConflict(null);
    this.renderTools();
  }

  private async split(line: LineString): Promise<void> {
    const target = this.selected.length === 1 ? this.grid(this.selected[0]!) : undefined;
    if (!target) return;
    await this.run(async () => {
      const result = await api.splitGrid(target.id, line);
      return { before: [target], after: [result.kept, ...result.created] };
    });
  }

  private async merge(): Promise<void> {
    const grids = this.selected.map((id) => this.grid(id)).filter((g): g is GridFeature => g !== undefined);
    await this.run(async () => {
      const result = await api.mergeGrids(grids.map((g) => g.id));
      this.selected = [result.grid.id];
      return { before: grids, after: [result.grid] };
    });
  }

  private async remove(): Promise<void> {
    const grids = this.selected.map((id) => this.grid(id)).filter((g): g is GridFeature => g !== undefined);
    await this.run(async () => {
      for (const g of grids) await api.deleteGrid(g.id, g.properties.version);
      this.selected = [];
      return { before: grids, after: [] };
    });
  }

  private async adjust(kind: 'snap' | 'clip', gridId: number): Promise<void> {
    const before = this.grid(gridId);
    if (!before) return;
    await this.run(async () => {
      const result = kind === 'snap' ? await api.snapGrid(gridId) : await api.clipGrid(gridId);
      return result.changed ? { before: [before], after: [result.grid] } : null;
    });
  }

  private async fillGap(problem: Extract<LayoutProblem, { kind: 'gap' }>): Promise<void> {
    const layoutId = this.collection?.layout.id;
    const before = problem.suggestedGridId === null ? undefined : this.grid(problem.suggestedGridId);
    if (!layoutId || !before || problem.geometry.type !== 'Polygon') return;
    const gap = problem.geometry as Polygon;
    await this.run(async () => {
      const result = await api.fillGap(layoutId, gap, before.id);
      this.layers.setProblem(null);
      return { before: [before], after: [result.grid] };
    });
  }

  private async createDraft(from: 'empty' | 'published'): Promise<void> {
    const community = this.community?.code;
    if (!community) return;
    await this.run(async () => {
      const layout = await api.createDraft(community, from, this.draftName.trim() || undefined);
      this.draftName = '';
      this.layouts = await api.listLayouts(community);
      this.history = historyOf(layout.id);
      this.layoutId = layout.id;
      this.ctx.url.set({ layout: String(layout.id) });
      this.selected = [];
      return null;
    });
  }

  private async deleteDraft(): Promise<void> {
    const layout = this.collection?.layout;
    const community = this.community?.code;
    if (!layout || !community || !window.confirm(t('editor.confirmDeleteDraft', { name: layout.name }))) return;
    await api.deleteDraft(layout.id);
    this.ctx.url.set({ layout: null });
    await this.openCommunity(community);
  }

  private async previewPublish(): Promise<void> {
    const layout = this.collection?.layout;
    if (!layout) return;
    const root = this.ui.publish;
    const impact = await api.layoutImpact(layout.id).catch(() => null);
    const box = el('div', 'impact');
    box.dataset.testid = 'impact';
    box.append(el('h3', '', t('editor.impact')));
    if (impact) {
      box.append(el('p', '', t('editor.impact.moved', impact.moved)));
      const moves = impact.moves.filter((m) => m.fromGridCode !== m.toGridCode && (m.households > 0 || m.residents > 0 || m.buildings > 0));
      const list = el('ul', 'moves');
      for (const m of moves.slice(0, 30)) {
        list.append(el('li', '', t('editor.impact.move', { from: m.fromGridCode?.slice(-3) ?? t('editor.impact.none'), to: m.toGridId === null ? t('editor.uncoded') : gridLabel(m.toGridCode, m.toGridId), households: m.households, residents: m.residents })));
      }
      box.append(list);
    }
    const actions = el('div', 'actions impact-actions');
    actions.append(
      button(t('editor.impact.confirm'), 'publish-confirm', () => void this.publish(), 'primary'),
      button(t('editor.impact.cancel'), 'publish-cancel', () => this.renderPublish(), 'link'),
    );
    box.append(actions);
    root.replaceChildren(box);
  }

  private async publish(): Promise<void> {
    const layout = this.collection?.layout;
    const community = this.community?.code;
    if (!layout || !community) return;
    let name = layout.name;
    await this.run(
      async () => {
        const result = await api.publishLayout(layout.id);
        name = result.layout.name;
        this.layouts = await api.listLayouts(community);
        return null;
      },
      () => t('editor.published', { name }),
    );
    this.renderLayouts();
    this.renderPublish();
  }

  // Rendering ---------------------------------------------------------------------------------------

  private render(): void {
    this.renderLayouts();
    this.renderTools();
    this.renderPublish();
    const draft = this.collection?.layout.status === 'draft';
    renderValidation(this.ui.validation, this.collection ? this.report : null, {
      onShow: (p) => this.showProblem(p),
      ...(draft ? { onClip: (id: number) => void this.adjust('clip', id), onFillGap: (p: Extract<LayoutProblem, { kind: 'gap' }>) => void this.fillGap(p) } : {}),
    });
    renderBalance(this.ui.balance, this.collection ? this.report : null, this.impact, (id) => {
      this.select([id]);
      const g = this.grid(id);
      if (g) this.ctx.map.fitBounds(boundsOf(g.geometry as Geometry), { padding: 60, duration: 300, maxZoom: 17 });
      this.renderTools();
    });
  }

  private renderLayouts(): void {
    const root = this.ui.layouts;
    root.replaceChildren();
    if (!this.community) return;
    root.append(el('h3', '', t('editor.layouts')));
    const select = el('select');
    select.dataset.testid = 'layout-select';
    if (!this.collection) {
      // Nothing open (a link to a layout this community lacks): a choice, so any layout fires a change.
      const none = el('option', '', t('editor.layout.none'));
      none.value = '';
      select.append(none);
    }
    for (const l of this.layouts) {
      const option = el('option', '', t('editor.layout.option', { ...layoutOptionParams(l), status: t(`editor.status.${l.status}` as MessageKey) }));
      option.value = String(l.id);
      select.append(option);
    }
    select.value = this.collection ? String(this.collection.layout.id) : '';
    select.addEventListener('change', () => {
      if (select.value) void this.openLayout(Number(select.value));
    });
    root.append(select);
    // Drafts are told apart by name: the planner may give the next one its name.
    const name = el('input');
    name.type = 'text';
    name.maxLength = 200;
    name.placeholder = t('editor.draftName.placeholder');
    name.value = this.draftName;
    name.dataset.testid = 'new-draft-name';
    name.addEventListener('input', () => (this.draftName = name.value));
    const nameField = el('label', 'field draft-name');
    nameField.append(el('span', '', t('editor.draftName')), name);
    root.append(nameField);
    const actions = el('div', 'actions');
    actions.append(
      button(t('editor.newDraft'), 'new-draft', () => void this.createDraft('published'), 'small'),
      button(t('editor.newEmptyDraft'), 'new-empty-draft', () => void this.createDraft('empty'), 'small'),
    );
    if (this.collection?.layout.status === 'draft') actions.append(button(t('editor.deleteDraft'), 'delete-draft', () => void this.deleteDraft(), 'small danger'));
    root.append(actions);
  }

  private renderTools(): void {
    const root = this.ui.tools;
    root.replaceChildren();
    const layout = this.collection?.layout;
    if (!layout) return;
    if (layout.status !== 'draft') {
      root.append(el('p', 'muted', t('editor.readOnly', { status: t(`editor.status.${layout.status}` as MessageKey) })));
      return;
    }
    root.append(el('h3', '', t('editor.tools')));
    const one = this.selected.length === 1 ? this.grid(this.selected[0]!) : undefined;
    const tool = (key: MessageKey, id: string, action: () => void, enabled: boolean): HTMLButtonElement => {
      const b = button(t(key), id, action, 'tool');
      b.disabled = !enabled || this.busy;
      return b;
    };
    const idle = this.pending === null && this.draw.current === 'idle';
    const bar = el('div', 'toolbar');
    bar.append(
      tool('editor.draw', 'tool-draw', () => {
        this.draw.drawPolygon();
        this.say(t('editor.drawHint'));
        this.renderTools();
      }, idle),
      tool('editor.edit', 'tool-edit', () => {
        if (!one) return;
        this.pending = { kind: 'edit', grid: one };
        this.draw.edit(one.geometry as Polygon);
        this.say(t('editor.editHint'));
        this.renderTools();
      }, idle && one !== undefined && one.geometry.type === 'Polygon'),
      tool('editor.split', 'tool-split', () => {
        this.draw.drawLine();
        this.say(t('editor.splitHint'));
        this.renderTools();
      }, idle && one !== undefined),
      tool('editor.merge', 'tool-merge', () => void this.merge(), idle && this.selected.length >= 2),
      tool('editor.delete', 'tool-delete', () => void this.remove(), idle && this.selected.length >= 1),
      tool('editor.snap', 'tool-snap', () => one && void this.adjust('snap', one.id), idle && one !== undefined),
      tool('editor.clip', 'tool-clip', () => one && void this.adjust('clip', one.id), idle && one !== undefined),
      tool('editor.undo', 'tool-undo', () => void this.run(async () => (await this.history?.undo(), null)), idle && (this.history?.canUndo ?? false)),
      tool('editor.redo', 'tool-redo', () => void this.run(async () => (await this.history?.redo(), null)), idle && (this.history?.canRedo ?? false)),
    );
    root.append(bar);
    if (this.pending) {
      const box = el('div', 'pending');
      box.dataset.testid = 'pending';
      box.append(el('p', '', this.pending.kind === 'new' ? t('editor.pendingNew') : t('editor.pendingEdit', { code: this.pending.grid.properties.code?.slice(-3) ?? `#${this.pending.grid.id}` })));
      if (this.conflict) {
        box.append(el('p', 'notice', t('editor.conflict', { version: this.conflict.properties.version })));
        box.append(
          tool('editor.conflict.mine', 'conflict-mine', () => void this.save(), true),
          tool('editor.conflict.theirs', 'conflict-theirs', () => {
            this.discard();
            void this.reload();
          }, true),
        );
      } else {
        box.append(tool('editor.save', 'save', () => void this.save(), this.draw.edited() !== undefined), tool('editor.discard', 'discard', () => this.discard(), true));
      }
      root.append(box);
    } else if (this.draw.current !== 'idle') {
      root.append(tool('editor.discard', 'discard', () => this.discard(), true));
    }
    const selection = el('p', 'muted');
    selection.dataset.testid = 'selection';
    selection.textContent = this.selected.length
      ? t('editor.selected', { count: this.selected.length, codes: this.selected.map((id) => gridLabel(this.grid(id)?.properties.code, id)).join(t('list.separator')) })
      : t('editor.selectHint');
    root.append(selection);
  }

  private renderPublish(): void {
    const root = this.ui.publish;
    root.replaceChildren();
    if (this.collection?.layout.status !== 'draft' || !this.ctx.me.permissions.includes('layouts:publish')) return;
    const b = button(t('editor.publish'), 'publish', () => void this.previewPublish(), 'primary');
    b.disabled = this.busy || this.pending !== null || this.report?.summary.publishable === false;
    root.append(b);
  }

  private showProblem(problem: LayoutProblem): void {
    this.layers.setProblem(problem.geometry as Geometry);
    this.select(problem.gridIds.filter((id) => this.grid(id)));
    this.ctx.map.fitBounds(boundsOf(problem.geometry as Geometry), { padding: 80, duration: 300, maxZoom: 18 });
    this.renderTools();
  }

  private say(text: string, error = false): void {
    this.ui.message.textContent = text;
    this.ui.message.className = error ? 'editor-message error' : 'editor-message';
  }
}
