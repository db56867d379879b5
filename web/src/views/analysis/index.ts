/**
 * Analysis map (issue #10): where events concentrate and whether that is more than chance. Heatmap of the
 * points in view (server kernel density when there are too many to draw), counts per grid/hex/square as
 * a choropleth, Gi* hot and cold spots with the ArcGIS 90/95/99 % legend, DBSCAN cluster hulls and
 * emerging hot spot classes; a month range slider and a category filter; a per-unit table (with the
 * events KPIs per grid where the user may read events); the map as PNG and the table as CSV.
 */
import type { KpiRow, Taxonomy } from '@contracts/events';
import type { Geometry } from 'geojson';
import type { Map as MapLibreMap } from 'maplibre-gl';
import { errorText } from '../../api/error-text';
import { boundsOf } from '../../map/create-map';
import { fetchAnalysis, type AnalysisCollection, type AnalysisUnit, type HotspotProperties, type UnitProperties } from '../../api/analysis';
import { fetchKpis, fetchTaxonomy } from '../../api/events';
import { getLocale, localName, onLocaleChange, t, type MessageKey } from '../../i18n/i18n';
import { download, el, field, option } from '../dispatch/dom';
import type { View, ViewContext } from '../view';
import { AnalysisLayers, stepColours } from './analysis-map';
import { emergingLegend, hotspotLegend, quantileBreaks, rampLegend } from './legend';
import { formatCentre, numberCells, toCsv, type Column } from './table';
import { analysisSummary } from './warnings';
import './analysis.css';

type Toggle = 'heatmap' | 'counts' | 'hotspots' | 'clusters' | 'emerging';
const TOGGLES: readonly Toggle[] = ['heatmap', 'counts', 'hotspots', 'clusters', 'emerging'];
const MONTHS_BACK = 24;
/** Above this many events in view the browser heatmap gives way to the server's kernel density. */
const CLIENT_POINTS_MAX = 10_000;
const RELOAD_DELAY_MS = 300;
/** Kernel bandwidth default (m); the output cell is a fifth of it, so the surface looks smooth. */
const DEFAULT_RADIUS_M = 500;
const densityParams = (radius: number): { radius: number; cell: number } => ({ radius, cell: Math.min(5_000, Math.max(10, Math.round(radius / 5))) });
const CLUSTERS = { eps: 50, minPoints: 5 };

interface Month {
  key: string; // YYYY-MM
  start: Date; // first instant in Asia/Shanghai
}

/** The last `n` months up to the current one, in the city's time zone (UTC+8, no DST). */
function recentMonths(n: number, now = new Date()): Month[] {
  const local = new Date(now.getTime() + 8 * 3600_000);
  const months: Month[] = [];
  for (let k = n - 1; k >= -1; k--) {
    const d = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - k, 1) - 8 * 3600_000);
    const l = new Date(d.getTime() + 8 * 3600_000);
    months.push({ key: `${l.getUTCFullYear()}-${String(l.getUTCMonth() + 1).padStart(2, '0')}`, start: d });
  }
  return months; // n months plus the next one (the end bound of the last)
}

function bboxOf(map: MapLibreMap): string {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
}

interface Row {
  /** The server's unit id: a grid code, or the "i,j" lattice index of a cell. */
  id: string;
  /** What the reader sees: the grid code, or "Hexagon 12" (the number the map shows in the cell). */
  unit: string;
  /** The grid's name, or the cell's centre. */
  name: string;
  count: number;
  rate: number | null;
  z: number | null;
  bin: number | null;
  kpi: KpiRow | null;
}

export function mountAnalysis(ctx: ViewContext): () => void {
  const { map, panel, url, me, token } = ctx;
  // Grid KPIs and the taxonomy are aggregates: `reports:read` (analysts hold it; events:read is not needed).
  const canReadReports = me.permissions.includes('reports:read');
  const months = recentMonths(MONTHS_BACK);
  const last = MONTHS_BACK - 1;
  const monthIndex = (key: string | null, fallback: number): number => {
    const i = months.findIndex((m) => m.key === key);
    return i >= 0 && i <= last ? i : fallback;
  };
  const unitParam = url.get('unit');
  const initialUnit: AnalysisUnit = unitParam === 'grid' || unitParam === 'square' ? unitParam : 'hex';
  const state = {
    on: new Set<Toggle>((url.get('layers') ?? 'counts').split(',').filter((x): x is Toggle => (TOGGLES as readonly string[]).includes(x))),
    unit: initialUnit,
    size: Math.min(20_000, Math.max(10, Number(url.get('size')) || 250)),
    category: url.get('category') ?? '',
    heatMode: (url.get('heat') === 'kde' ? 'kde' : 'auto'),
    radius: Math.min(20_000, Math.max(10, Number(url.get('radius')) || DEFAULT_RADIUS_M)),
    from: monthIndex(url.get('from'), last - 11),
    to: monthIndex(url.get('to'), last),
    taxonomy: null as Taxonomy | null,
    categoriesSeen: new Set<string>(),
    status: {} as Partial<Record<Toggle | 'table', { busy: boolean; text: string; error?: boolean }>>,
    legends: {} as Partial<Record<Toggle, HTMLElement>>,
    counts: null as AnalysisCollection<UnitProperties> | null,
    hotspots: null as AnalysisCollection<HotspotProperties> | null,
    kpis: null as KpiRow[] | null,
    /** Cell numbers and centres of the counts answer (hexagons and squares; empty for grids). */
    cells: new Map<string, { no: number; centre: [number, number] }>(),
    /** The unit the counts answer is in (the select may have moved on while it loads). */
    countsUnit: initialUnit,
    /** The unit whose row was clicked: outlined on the map. */
    selected: null as string | null,
  };
  if (state.from > state.to) state.from = state.to;
  let disposed = false;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const aborts = new Map<string, AbortController>();

  const layers = new AnalysisLayers();
  layers.add(map);

  // ---- DOM ----
  const root = el('section', { class: 'wg-analysis', testid: 'analysis-view' });
  const controls = el('div', { class: 'wg-controls' });
  const legendsBox = el('div', { class: 'wg-legends', testid: 'analysis-legends' });
  const tableBox = el('div', { class: 'wg-table-box', testid: 'analysis-table-box' });
  root.append(controls, legendsBox, tableBox);
  panel.append(root);

  const filters = (): Record<string, string | undefined> => ({
    from: months[state.from]?.start.toISOString(),
    to: months[state.to + 1]?.start.toISOString(),
    category: state.category || undefined,
  });

  const unitParams = (): Record<string, string | number | undefined> => ({ unit: state.unit, size: state.unit === 'grid' ? undefined : state.size });

  // Kept so data arriving later updates them in place: rebuilding the controls would break a slider drag.
  let categorySelect: HTMLSelectElement | undefined;
  const statusEls = new Map<Toggle, HTMLElement>();

  function fillCategories(category: HTMLSelectElement): void {
    category.replaceChildren(option('', t('analysis.category.all'), state.category === ''));
    if (state.taxonomy) {
      const cats = state.taxonomy.categories;
      for (const parent of cats.filter((c) => c.parentCode === null)) {
        const group = el('optgroup');
        group.label = localName(parent);
        group.append(option(parent.code, localName(parent), parent.code === state.category));
        for (const c of cats.filter((x) => x.parentCode === parent.code)) group.append(option(c.code, `· ${localName(c)}`, c.code === state.category));
        category.append(group);
      }
    } else {
      // Without reports:read there is no taxonomy: offer the categories the events carry.
      const codes = new Set([...state.categoriesSeen].flatMap((c) => [c.split('.')[0] ?? c, c]));
      if (state.category) codes.add(state.category);
      for (const c of [...codes].sort()) category.append(option(c, c, c === state.category));
    }
  }

  function paintStatus(key: Toggle): void {
    const small = statusEls.get(key);
    if (!small) return;
    const status = state.status[key];
    small.hidden = !status || !state.on.has(key);
    small.className = status?.error ? 'wg-error' : 'wg-muted';
    small.textContent = !status ? '' : status.busy ? t('analysis.loading') : status.text;
  }

  function renderControls(): void {
    statusEls.clear();
    controls.replaceChildren();
    controls.append(el('h2', { class: 'wg-title', text: t('analysis.title') }));
    // month range: two sliders over the last 24 months
    const from = el('input', { testid: 'analysis-from' });
    const to = el('input', { testid: 'analysis-to' });
    for (const s of [from, to]) {
      s.type = 'range';
      s.min = '0';
      s.max = String(last);
      s.step = '1';
    }
    from.value = String(state.from);
    to.value = String(state.to);
    const period = el('p', { class: 'wg-period', testid: 'analysis-period', text: t('analysis.period', { from: months[state.from]?.key ?? '', to: months[state.to]?.key ?? '' }) });
    const onSlide = (ev: Event): void => {
      let a = Number(from.value);
      let b = Number(to.value);
      if (a > b) {
        if (ev.target === from) b = a;
        else a = b;
        from.value = String(a);
        to.value = String(b);
      }
      state.from = a;
      state.to = b;
      period.textContent = t('analysis.period', { from: months[a]?.key ?? '', to: months[b]?.key ?? '' });
      url.set({ from: months[a]?.key ?? null, to: months[b]?.key ?? null });
      scheduleReload();
    };
    from.addEventListener('input', onSlide);
    to.addEventListener('input', onSlide);

    const category = el('select', { testid: 'analysis-category' });
    categorySelect = category;
    fillCategories(category);
    category.addEventListener('change', () => {
      state.category = category.value;
      url.set({ category: state.category || null });
      scheduleReload();
    });

    const unit = el('select', { testid: 'analysis-unit' });
    for (const u of ['grid', 'hex', 'square'] as const) unit.append(option(u, t(`analysis.unit.${u}`), u === state.unit));
    const size = el('input', { testid: 'analysis-size' });
    size.type = 'number';
    size.min = '10';
    size.max = '20000';
    size.step = '10';
    size.value = String(state.size);
    size.disabled = state.unit === 'grid';
    unit.addEventListener('change', () => {
      state.unit = unit.value as AnalysisUnit;
      size.disabled = state.unit === 'grid';
      url.set({ unit: state.unit });
      scheduleReload();
    });
    size.addEventListener('change', () => {
      const v = Number(size.value);
      if (!Number.isFinite(v) || v < 10 || v > 20_000) {
        size.value = String(state.size);
        return;
      }
      state.size = v;
      url.set({ size: String(v) });
      scheduleReload();
    });

    const heatMode = el('select', { testid: 'analysis-heat-mode' });
    heatMode.append(option('auto', t('analysis.heatmap.mode.auto'), state.heatMode === 'auto'), option('kde', t('analysis.heatmap.mode.kde'), state.heatMode === 'kde'));
    const radius = el('input', { testid: 'analysis-radius' });
    radius.type = 'number';
    radius.min = '10';
    radius.max = '20000';
    radius.step = '50';
    radius.value = String(state.radius);
    heatMode.addEventListener('change', () => {
      state.heatMode = heatMode.value === 'kde' ? 'kde' : 'auto';
      url.set({ heat: state.heatMode === 'kde' ? 'kde' : null });
      if (state.on.has('heatmap')) void load('heatmap');
    });
    radius.addEventListener('change', () => {
      const v = Number(radius.value);
      if (!Number.isFinite(v) || v < 10 || v > 20_000) {
        radius.value = String(state.radius);
        return;
      }
      state.radius = v;
      url.set({ radius: String(v) });
      if (state.on.has('heatmap')) void load('heatmap');
    });

    const toggles = el('div', { class: 'wg-toggles' });
    for (const key of TOGGLES) {
      const box = el('input', { testid: `analysis-layer-${key}` });
      box.type = 'checkbox';
      box.checked = state.on.has(key);
      box.addEventListener('change', () => {
        if (box.checked) state.on.add(key);
        else state.on.delete(key);
        url.set({ layers: [...state.on].join(',') || 'none' });
        applyVisibility();
        if (box.checked) void load(key);
        paintStatus(key);
        renderLegends();
      });
      const small = el('small', { testid: `analysis-status-${key}` });
      statusEls.set(key, small);
      paintStatus(key);
      toggles.append(el('label', { class: 'wg-check' }, box, t(`analysis.layer.${key}` as MessageKey), small));
    }

    const png = el('button', { testid: 'analysis-export-png', text: t('analysis.export.png') });
    png.type = 'button';
    png.addEventListener('click', exportPng);
    const csv = el('button', { testid: 'analysis-export-csv', text: t('analysis.export.csv') });
    csv.type = 'button';
    csv.addEventListener('click', exportCsv);

    controls.append(
      el('div', { class: 'wg-slider' }, period, field(t('analysis.period.from'), from), field(t('analysis.period.to'), to)),
      field(t('analysis.category'), category),
      el('div', { class: 'wg-row' }, field(t('analysis.unit'), unit), field(t('analysis.size'), size)),
      el('h3', { text: t('analysis.layers') }),
      toggles,
      // The mode's texts are long: a line of its own, not half of one (UX review finding 13).
      field(t('analysis.heatmap.mode'), heatMode),
      field(t('analysis.heatmap.radius'), radius),
      el('div', { class: 'wg-buttons' }, png, csv),
    );
  }

  function renderLegends(): void {
    legendsBox.replaceChildren();
    for (const key of TOGGLES) {
      const legend = state.legends[key];
      if (state.on.has(key) && legend) legendsBox.append(legend);
    }
  }

  function columns(): Array<Column<Row>> {
    const cols: Array<Column<Row>> = [
      { key: 'unit', label: t('analysis.table.unit'), value: (r) => r.unit },
      { key: 'name', label: t(state.countsUnit === 'grid' ? 'analysis.table.name' : 'analysis.table.centre'), value: (r) => r.name },
      { key: 'count', label: t('analysis.table.count'), value: (r) => r.count },
      { key: 'rate', label: t('analysis.table.rate'), value: (r) => r.rate },
    ];
    if (state.hotspots) {
      cols.push({ key: 'z', label: t('analysis.table.z'), value: (r) => (r.z === null ? null : Number(r.z.toFixed(3))) });
      cols.push({ key: 'bin', label: t('analysis.table.bin'), value: (r) => (r.bin === null ? null : t(`analysis.bin.${r.bin}` as MessageKey)) });
    }
    if (state.kpis) {
      const pct = (v: number | undefined): number | null => (v === undefined ? null : Number((v * 100).toFixed(1)));
      const hrs = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v.toFixed(1)));
      cols.push(
        { key: 'closureRate', label: `${t('analysis.table.closureRate')} %`, value: (r) => pct(r.kpi?.closureRate) },
        { key: 'onTimeClosureRate', label: `${t('analysis.table.onTimeClosureRate')} %`, value: (r) => pct(r.kpi?.onTimeClosureRate) },
        { key: 'meanHoursToClose', label: t('analysis.table.meanHoursToClose'), value: (r) => hrs(r.kpi?.meanHoursToClose) },
        { key: 'p90HoursToClose', label: t('analysis.table.p90HoursToClose'), value: (r) => hrs(r.kpi?.p90HoursToClose) },
        { key: 'reworkRate', label: `${t('analysis.table.reworkRate')} %`, value: (r) => pct(r.kpi?.reworkRate) },
        { key: 'rank', label: t('analysis.table.rank'), value: (r) => r.kpi?.rank ?? null },
      );
    }
    return cols;
  }

  function rows(): Row[] {
    const hot = new Map((state.hotspots?.features ?? []).map((f) => [f.properties.unit, f.properties]));
    const kpi = new Map((state.kpis ?? []).map((k) => [k.key, k]));
    return (state.counts?.features ?? [])
      .map((f) => {
        const h = hot.get(f.properties.unit);
        const cell = state.cells.get(f.properties.unit);
        return {
          id: f.properties.unit,
          unit: cell ? t(state.countsUnit === 'square' ? 'analysis.cell.square' : 'analysis.cell.hex', { no: cell.no }) : f.properties.unit,
          name: cell ? formatCentre(cell.centre) : (f.properties.name ?? ''),
          count: f.properties.count,
          rate: f.properties.rate ?? null,
          z: h?.z ?? null,
          bin: h ? h.bin : null,
          kpi: kpi.get(f.properties.unit) ?? null,
        };
      })
      .sort((a, b) => b.count - a.count || (state.cells.get(a.id)?.no ?? 0) - (state.cells.get(b.id)?.no ?? 0) || a.id.localeCompare(b.id));
  }

  function renderTable(): void {
    tableBox.replaceChildren(el('h3', { text: t('analysis.table.title') }));
    const status = state.status.table;
    if (status?.busy) tableBox.append(el('p', { class: 'wg-muted', text: t('analysis.loading') }));
    if (status?.error) tableBox.append(el('p', { class: 'wg-error', text: status.text }));
    const data = rows();
    if (data.length === 0) {
      tableBox.append(el('p', { class: 'wg-muted', text: t('analysis.table.empty') }));
      return;
    }
    const cols = columns();
    const table = el('table', { class: 'wg-table', testid: 'analysis-table' });
    table.append(el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { text: c.label })))));
    const body = el('tbody');
    for (const r of data) {
      const tr = el('tr', {}, ...cols.map((c) => el('td', { text: String(c.value(r) ?? '') })));
      tr.dataset.unit = r.id;
      tr.title = t('analysis.table.show');
      if (r.id === state.selected) tr.classList.add('wg-selected');
      tr.addEventListener('click', () => showUnit(r.id));
      body.append(tr);
    }
    table.append(body);
    tableBox.append(table);
    if (state.unit === 'grid' && !canReadReports) tableBox.append(el('p', { class: 'wg-muted', text: t('analysis.table.kpiNote') }));
  }

  /** Outlines a unit on the map and brings it into view (a click on its row). */
  function showUnit(id: string): void {
    const feature = state.counts?.features.find((f) => f.properties.unit === id);
    if (!feature) return;
    state.selected = id;
    layers.setSelected(id);
    root.dataset.selectedUnit = id;
    for (const tr of tableBox.querySelectorAll<HTMLTableRowElement>('tbody tr')) tr.classList.toggle('wg-selected', tr.dataset.unit === id);
    map.fitBounds(boundsOf(feature.geometry as Geometry), { padding: 80, duration: 300, maxZoom: 17 });
  }

  function applyVisibility(): void {
    layers.setVisible('counts', state.on.has('counts'));
    layers.setVisible('hotspots', state.on.has('hotspots'));
    layers.setVisible('clusters', state.on.has('clusters'));
    layers.setVisible('emerging', state.on.has('emerging'));
    const heat = state.on.has('heatmap');
    const mode = root.dataset.heatmap;
    layers.setVisible('heatmap', heat && mode !== 'server');
    layers.setVisible('density', heat && mode === 'server');
  }

  function setStatus(key: Toggle | 'table', busy: boolean, text = '', error = false): void {
    state.status[key] = { busy, text, error };
    if (key === 'table') renderTable();
    else paintStatus(key);
  }


  /** Fetch one layer (or the table's counts); a newer request for the same thing aborts the older. */
  async function load(key: Toggle | 'table'): Promise<void> {
    aborts.get(key)?.abort();
    const abort = new AbortController();
    aborts.set(key, abort);
    setStatus(key, true);
    const base = { ...filters() };
    try {
      switch (key) {
        case 'table': {
          const unit = state.unit;
          const [counts, kpis] = await Promise.all([
            fetchAnalysis(token, 'counts', { ...base, ...unitParams() }, abort.signal),
            canReadReports && state.unit === 'grid' && base.from && base.to
              ? fetchKpis(token, { from: base.from, to: base.to, by: 'grid' }).then((r) => r.rows).catch(() => null)
              : Promise.resolve(null),
          ]);
          if (abort.signal.aborted || disposed) return;
          state.counts = counts;
          state.kpis = kpis;
          state.countsUnit = unit;
          state.cells = unit === 'grid' ? new Map<string, { no: number; centre: [number, number] }>() : numberCells(counts.features);
          if (state.selected !== null && !counts.features.some((f) => f.properties.unit === state.selected)) {
            state.selected = null;
            layers.setSelected(null);
            delete root.dataset.selectedUnit;
          }
          const breaks = quantileBreaks(counts.features.map((f) => f.properties.count));
          layers.setData('counts', counts);
          // The map labels each cell with its number (the table's "Hexagon 12").
          layers.setCellLabels(state.cells.values());
          layers.setPaint('analysis-counts-fill', 'fill-color', stepColours('count', breaks));
          state.legends.counts = rampLegend(t('analysis.legend.counts'), breaks, (v) => String(Math.round(v)), 'analysis-legend-counts', true);
          state.status.counts = { busy: false, text: analysisSummary(counts.summary) };
          root.dataset.counts = String(counts.features.length);
          setStatus('table', false);
          paintStatus('counts');
          renderLegends();
          return;
        }
        case 'counts':
          await load('table');
          return;
        case 'hotspots': {
          const res = await fetchAnalysis(token, 'hotspots', { ...base, ...unitParams() }, abort.signal);
          if (abort.signal.aborted || disposed) return;
          state.hotspots = res;
          layers.setData('hotspots', res);
          const bins = new Map<number, number>();
          for (const f of res.features) bins.set(f.properties.bin, (bins.get(f.properties.bin) ?? 0) + 1);
          state.legends.hotspots = hotspotLegend(bins);
          root.dataset.hotspots = String(res.features.length);
          setStatus('hotspots', false, analysisSummary(res.summary));
          renderTable();
          break;
        }
        case 'clusters': {
          const res = await fetchAnalysis(token, 'clusters', { ...base, ...CLUSTERS }, abort.signal);
          if (abort.signal.aborted || disposed) return;
          layers.setData('clusters', res);
          state.legends.clusters = el('div', { class: 'wg-legend', testid: 'analysis-legend-clusters' }, el('h4', { text: t('analysis.legend.clusters', { ...CLUSTERS, n: res.features.length }) }));
          root.dataset.clusters = String(res.features.length);
          setStatus('clusters', false, analysisSummary(res.summary));
          break;
        }
        case 'emerging': {
          const slices = Math.max(3, state.to - state.from + 1);
          const res = await fetchAnalysis(token, 'emerging', { to: base.to, category: base.category, ...unitParams(), slice: 'month', slices }, abort.signal);
          if (abort.signal.aborted || disposed) return;
          layers.setData('emerging', res);
          const classes = new Map<string, number>();
          for (const f of res.features) classes.set(f.properties.category, (classes.get(f.properties.category) ?? 0) + 1);
          state.legends.emerging = emergingLegend(classes, slices);
          root.dataset.emerging = String(res.features.length);
          setStatus('emerging', false, analysisSummary(res.summary));
          break;
        }
        case 'heatmap': {
          const bbox = bboxOf(map);
          const points = await fetchAnalysis(token, 'points', { ...base, bbox, limit: CLIENT_POINTS_MAX }, abort.signal);
          if (abort.signal.aborted || disposed) return;
          for (const f of points.features) state.categoriesSeen.add(f.properties.category);
          if (categorySelect && !state.taxonomy) fillCategories(categorySelect);
          const truncated = points.summary.events > points.features.length;
          if (state.heatMode === 'kde' || truncated) {
            // The server's quartic kernel density over the view: asked for, or too many points to draw here.
            const density = await fetchAnalysis(token, 'density', { ...base, bbox, ...densityParams(state.radius) }, abort.signal);
            if (abort.signal.aborted || disposed) return;
            const breaks = quantileBreaks(density.features.map((f) => f.properties.density));
            layers.setData('density', density);
            layers.setPaint('analysis-density-fill', 'fill-color', stepColours('density', breaks));
            state.legends.heatmap = rampLegend(t('analysis.legend.density'), breaks, (v) => (v > 0 && v < 10 ? v.toPrecision(2) : v.toFixed(0)), 'analysis-legend-heatmap');
            root.dataset.heatmap = 'server';
            root.dataset.density = String(density.features.length);
            const text = truncated
              ? t('analysis.heatmap.server', { events: points.summary.events, radius: state.radius })
              : t('analysis.heatmap.kde', { events: density.summary.events, radius: state.radius });
            setStatus('heatmap', false, text);
          } else {
            layers.setData('heatmap', points);
            delete state.legends.heatmap;
            root.dataset.heatmap = 'client';
            setStatus('heatmap', false, t('analysis.heatmap.client', { n: points.features.length }));
          }
          root.dataset.points = String(points.features.length);
          applyVisibility();
          break;
        }
      }
      renderLegends();
    } catch (err) {
      if (abort.signal.aborted || disposed) return;
      setStatus(key, false, t('analysis.error', { message: errorText(err) }), true);
    }
  }

  function reloadAll(): void {
    void load('table');
    for (const key of state.on) if (key !== 'counts') void load(key);
  }

  function scheduleReload(): void {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reloadAll, RELOAD_DELAY_MS);
  }

  /** The heatmap follows the view; the other layers cover the whole scope. */
  const onMoveEnd = (): void => {
    if (state.on.has('heatmap')) void load('heatmap');
  };
  map.on('moveend', onMoveEnd);

  function exportPng(): void {
    // The shell creates the map with preserveDrawingBuffer, so the canvas still holds the last frame.
    download(`wangge-analysis-${new Date().toISOString().slice(0, 10)}.png`, map.getCanvas().toDataURL('image/png'));
  }

  function exportCsv(): void {
    const blob = new Blob([toCsv(columns(), rows())], { type: 'text/csv;charset=utf-8' });
    const href = URL.createObjectURL(blob);
    download(`wangge-analysis-${state.unit}-${months[state.from]?.key ?? ''}-${months[state.to]?.key ?? ''}.csv`, href);
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  }

  const renderAll = (): void => {
    // Legends are built with the texts of the language they were built in: rebuild them from the data.
    if (state.hotspots) {
      const bins = new Map<number, number>();
      for (const f of state.hotspots.features) bins.set(f.properties.bin, (bins.get(f.properties.bin) ?? 0) + 1);
      state.legends.hotspots = hotspotLegend(bins);
    }
    renderControls();
    renderLegends();
    renderTable();
  };
  const offLocale = onLocaleChange(renderAll);
  renderAll();
  applyVisibility();
  root.lang = getLocale();

  if (canReadReports) {
    void fetchTaxonomy(token)
      .then((tax) => {
        if (disposed) return;
        state.taxonomy = tax;
        if (categorySelect) fillCategories(categorySelect);
      })
      .catch(() => undefined);
  } else {
    // Without reports:read there is no taxonomy: offer the categories the events carry.
    void fetchAnalysis(token, 'points', { limit: 5_000 })
      .then((points) => {
        if (disposed) return;
        for (const f of points.features) state.categoriesSeen.add(f.properties.category);
        if (categorySelect) fillCategories(categorySelect);
      })
      .catch(() => undefined);
  }
  reloadAll();

  return () => {
    disposed = true;
    clearTimeout(reloadTimer);
    for (const a of aborts.values()) a.abort();
    offLocale();
    map.off('moveend', onMoveEnd);
    layers.remove();
    root.remove();
  };
}

export const view: View = {
  id: 'analysis',
  // Admin sees every view (views/index.ts); these match the registry's entry.
  roles: ['analyst', 'community_manager', 'street_manager'],
  mount: mountAnalysis,
};

