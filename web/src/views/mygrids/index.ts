/**
 * My grids: the grid worker's daily tool. Pick one of the grids of one's scope (chosen by itself when
 * there is only one) and see it on the map; its buildings and households counted, who is on duty now
 * and its staff; its residents (masked as the API sends them) searched by text and group and paged;
 * its open events with their deadline status, each opening the case file shared with the dispatch
 * console (../shared/event-detail.ts) with the workflow actions the server allows.
 */
import type { Event, Taxonomy } from '@contracts/events';
import type { GridFeature } from '@contracts/grid';
import type { Resident } from '@contracts/registry';
import { errorText } from '../../api/error-text';
import { fetchTaxonomy, listEvents } from '../../api/events';
import {
  fetchDivision,
  fetchGridMembers,
  fetchOnDuty,
  listGridBuildings,
  listGridHouseholds,
  listPublishedGrids,
  listResidents,
  type GridMembers,
  type OnDuty,
} from '../../api/registry';
import { t, type MessageKey } from '../../i18n/i18n';
import { boundsOf } from '../../map/create-map';
import { DispatchLayers } from '../dispatch/dispatch-map';
import { el, field, option } from '../dispatch/dom';
import { appendEventList, EventDetail, label } from '../shared/event-detail';
import type { View, ViewContext } from '../view';
import { zhCN } from './messages';
import { countText, divisionsOfScope, gridInScope } from './scope';
import './mygrids.css';

const OPEN_STATES = 'reported,accepted,dispatched,in_progress,resolved,verified';
const TAGS = ['low_income', 'elderly_alone', 'disabled', 'community_correction', 'released_prisoner', 'at_risk_youth', 'severe_mental_illness'] as const;
const RESIDENT_PAGE = 50;
const EVENT_PAGE = 50;
/** Buildings and households are counted from one page this large ("500+" beyond it). */
const COUNT_PAGE = 500;
const SEARCH_DELAY_MS = 300;

/** A `mygrids.<prefix>.<value>` text, or the value itself for one we have no text for. */
function mine(prefix: string, value: string): string {
  const key = `mygrids.${prefix}.${value}`;
  return key in zhCN ? t(key as MessageKey) : value;
}

interface State {
  grids: GridFeature[] | null;
  gridsError: string | null;
  grid: GridFeature | null;
  counts: { buildings: string; households: string } | null;
  onDuty: OnDuty | null;
  members: GridMembers | null;
  staffError: string | null;
  residents: Resident[];
  residentsNext: number | null;
  residentsBusy: boolean;
  residentsError: string | null;
  events: Event[];
  eventsNext: number | null;
  eventsBusy: boolean;
  eventsError: string | null;
  notice: string | null;
  taxonomy: Taxonomy | null;
}

export function mountMyGrids(ctx: ViewContext): () => void {
  const { map, panel, url, me, token } = ctx;
  const state: State = {
    grids: null,
    gridsError: null,
    grid: null,
    counts: null,
    onDuty: null,
    members: null,
    staffError: null,
    residents: [],
    residentsNext: null,
    residentsBusy: false,
    residentsError: null,
    events: [],
    eventsNext: null,
    eventsBusy: false,
    eventsError: null,
    notice: null,
    taxonomy: null,
  };
  let disposed = false;
  /** Bumped when another grid is chosen: answers about the previous one are dropped. */
  let gridSeq = 0;
  let residentSeq = 0;
  let eventSeq = 0;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;

  const layers = new DispatchLayers({ onMapClick: () => undefined, onEventClick: (id) => void selectEvent(id) });
  layers.add(map);
  const detail = new EventDetail({
    token,
    testid: 'mygrids',
    canWrite: me.permissions.includes('events:write'),
    taxonomy: () => state.taxonomy,
    // Whom `dispatch` offers: the grid's own staff.
    staffFor: () => Promise.resolve((state.members?.members ?? []).map((m) => ({ id: m.staffId, label: `${m.name}（${label('role', m.role)}）` }))),
    onEventChanged: (changed) => {
      state.events = state.events.map((x) => (x.id === changed.id ? changed : x));
      renderEvents();
    },
    onSelect: (id) => {
      url.set({ event: id === null ? null : String(id) });
      renderEvents();
    },
    onError: (message) => {
      state.notice = t('dispatch.error', { message });
      renderNotice();
    },
  });

  // ---- DOM skeleton: the search box lives outside re-renders so typing never loses focus ----
  const root = el('section', { class: 'wg-view wg-mygrids', testid: 'mygrids-view' });
  const gridBox = el('div', { class: 'wg-mygrids-grid' });
  const summaryBox = el('div', { class: 'wg-mygrids-summary', testid: 'mygrids-summary' });
  const staffBox = el('div', { class: 'wg-mygrids-staff' });
  const noticeBox = el('p', { class: 'wg-notice', testid: 'mygrids-notice' });
  const eventsBox = el('section', { class: 'wg-mygrids-events' });
  const residentsTitle = el('h2', { class: 'wg-title' });
  const residentsHint = el('p', { class: 'wg-muted' });
  const search = el('input', { testid: 'mygrids-resident-search' });
  search.type = 'search';
  search.autocomplete = 'off';
  search.maxLength = 100;
  const tagSelect = el('select', { testid: 'mygrids-resident-tag' });
  const searchLabel = el('span');
  const tagLabel = el('span');
  const filters = el('div', { class: 'wg-filters' }, el('label', { class: 'wg-field' }, searchLabel, search), el('label', { class: 'wg-field' }, tagLabel, tagSelect));
  const residentsBox = el('div', { testid: 'mygrids-residents-section' });
  const residentsSection = el('section', { class: 'wg-mygrids-residents' }, residentsTitle, residentsHint, filters, residentsBox);
  root.append(
    el('h2', { class: 'wg-title', text: t('mygrids.title') }),
    el('p', { class: 'wg-hint', text: t('mygrids.hint') }),
    gridBox,
    summaryBox,
    staffBox,
    noticeBox,
    eventsBox,
    detail.element,
    residentsSection,
  );
  panel.append(root);
  search.value = url.get('q') ?? '';

  // ---- rendering ----
  const renderGrids = (): void => {
    gridBox.replaceChildren();
    if (state.gridsError) {
      gridBox.append(el('p', { class: 'wg-error', text: t('dispatch.error', { message: state.gridsError }) }));
      return;
    }
    const grids = state.grids;
    if (grids === null) {
      gridBox.append(el('p', { class: 'wg-muted', text: t('mygrids.loading') }));
      return;
    }
    if (grids.length === 0) {
      gridBox.append(el('p', { class: 'wg-warning', testid: 'mygrids-none', text: t('mygrids.none') }));
      return;
    }
    const select = el('select', { testid: 'mygrids-grid' });
    if (!state.grid) select.append(option('', t('mygrids.choose'), true));
    for (const g of grids) select.append(option(g.properties.code ?? '', t('mygrids.summary.grid', { name: g.properties.name, code: g.properties.code ?? '' }), g.id === state.grid?.id));
    // One grid: nothing to choose, but the control still says which grid this is.
    select.disabled = grids.length === 1;
    select.addEventListener('change', () => {
      const g = grids.find((x) => x.properties.code === select.value);
      if (g) chooseGrid(g);
    });
    gridBox.append(field(t('mygrids.grid'), select));
  };

  const renderSummary = (): void => {
    summaryBox.replaceChildren();
    const g = state.grid;
    if (!g) return;
    summaryBox.dataset.gridCode = g.properties.code ?? '';
    const counts = state.counts;
    summaryBox.append(
      el('p', {}, el('span', { testid: 'mygrids-buildings', text: t('mygrids.summary.buildings', { count: counts?.buildings ?? '…' }) }), ' · ', el('span', { testid: 'mygrids-households', text: t('mygrids.summary.households', { count: counts?.households ?? '…' }) })),
    );
  };

  const renderStaff = (): void => {
    staffBox.replaceChildren();
    if (!state.grid) return;
    if (state.staffError) staffBox.append(el('p', { class: 'wg-error', text: t('dispatch.error', { message: state.staffError }) }));
    staffBox.append(el('h3', { text: t('mygrids.onduty.title') }));
    const duty = state.onDuty?.onDuty;
    if (state.onDuty && !duty) staffBox.append(el('p', { class: 'wg-muted', testid: 'mygrids-onduty-none', text: t('mygrids.onduty.none') }));
    if (duty) staffBox.append(el('ul', { class: 'wg-people' }, person(duty.name, duty.role, duty.phone, label('level', duty.level), 'mygrids-onduty')));
    if (state.members) {
      staffBox.append(el('h3', { text: t('mygrids.staff.title') }));
      if (state.members.members.length === 0) staffBox.append(el('p', { class: 'wg-muted', text: t('mygrids.staff.none') }));
      else staffBox.append(el('ul', { class: 'wg-people', testid: 'mygrids-staff' }, ...state.members.members.map((m) => person(m.name, m.role, m.phone, null, 'mygrids-staff-person'))));
    }
  };

  function person(name: string, role: string, phone: string | null, level: string | null, testid: string): HTMLLIElement {
    const li = el('li', { testid }, el('span', { class: 'wg-name', text: name }), el('span', { class: 'wg-role', text: label('role', role) }));
    if (level) li.append(el('span', { class: 'wg-level', text: level }));
    if (phone) {
      const a = el('a', { class: 'wg-phone', text: phone });
      a.href = `tel:${phone}`;
      li.append(a);
    }
    return li;
  }

  const renderNotice = (): void => {
    noticeBox.textContent = state.notice ?? '';
    noticeBox.hidden = !state.notice;
  };

  const renderEvents = (): void => {
    eventsBox.replaceChildren();
    if (!state.grid) return;
    eventsBox.append(el('h2', { class: 'wg-title', text: t('mygrids.events.title') }));
    const now = Date.now();
    appendEventList(eventsBox, {
      testid: 'mygrids', events: state.events, selectedId: detail.selected?.id ?? null, busy: state.eventsBusy, error: state.eventsError ?? null,
      hasMore: state.eventsNext !== null, loadingText: t('mygrids.loading'), emptyText: t('mygrids.events.empty'),
      onSelect: (id) => void selectEvent(id), onMore: () => void loadEvents(true),
    }, now);
    root.dataset.events = String(state.events.length);
    layers.showEvents(state.events, detail.selected?.id ?? null, now);
  };

  const renderResidentFilters = (): void => {
    residentsTitle.textContent = t('mygrids.residents.title');
    residentsHint.textContent = t('mygrids.residents.masked');
    searchLabel.textContent = t('mygrids.residents.search');
    tagLabel.textContent = t('mygrids.residents.tag');
    search.placeholder = t('mygrids.residents.placeholder');
    const tag = url.get('tag') ?? '';
    tagSelect.replaceChildren(option('', t('mygrids.residents.tagAll'), tag === ''), ...TAGS.map((x) => option(x, mine('tag', x), x === tag)));
  };

  const renderResidents = (): void => {
    residentsSection.hidden = !state.grid;
    residentsBox.replaceChildren();
    if (state.residentsError) residentsBox.append(el('p', { class: 'wg-error', text: t('dispatch.error', { message: state.residentsError }) }));
    const ul = el('ul', { class: 'wg-residents', testid: 'mygrids-residents' });
    for (const r of state.residents) {
      const li = el(
        'li',
        { testid: 'mygrids-resident' },
        el('strong', { class: 'wg-resident-name', text: r.name }),
        el('span', { class: 'wg-muted', text: `${mine('gender', r.gender)} · ${r.birthDate}` }),
        el('span', { class: 'wg-id', testid: 'mygrids-resident-id', text: r.idNumber }),
        r.phone ? el('span', { class: 'wg-id', testid: 'mygrids-resident-phone', text: r.phone }) : null,
        ...r.tags.map((x) => el('span', { class: 'wg-tag', text: mine('tag', x) })),
      );
      li.dataset.residentId = String(r.id);
      ul.append(li);
    }
    residentsBox.append(ul);
    if (state.residentsBusy) residentsBox.append(el('p', { class: 'wg-muted', text: t('mygrids.loading') }));
    else if (state.residents.length === 0 && !state.residentsError) residentsBox.append(el('p', { class: 'wg-muted', testid: 'mygrids-residents-empty', text: t('mygrids.residents.empty') }));
    else residentsBox.append(el('p', { class: 'wg-muted', text: t('mygrids.residents.shown', { count: state.residents.length }) }));
    if (state.residentsNext !== null && !state.residentsBusy) {
      const more = el('button', { testid: 'mygrids-residents-more', text: t('mygrids.residents.more') });
      more.type = 'button';
      more.addEventListener('click', () => void loadResidents(true));
      residentsBox.append(more);
    }
    root.dataset.residents = state.residentsBusy ? 'loading' : String(state.residents.length);
  };

  const renderAll = (): void => {
    renderGrids();
    renderSummary();
    renderStaff();
    renderNotice();
    renderEvents();
    detail.render();
    renderResidentFilters();
    renderResidents();
  };

  // ---- behaviour ----
  /** The published grids of the scope: those around the divisions it names, kept when their code is in it. */
  async function loadGrids(): Promise<void> {
    try {
      const divisions = divisionsOfScope(me.scope);
      const collections =
        divisions === null
          ? [await listPublishedGrids(token)]
          : await Promise.all(
              divisions.map(async (code) => {
                const d = await fetchDivision(token, code);
                if (!d.boundary) return listPublishedGrids(token);
                const [[w, s], [e, n]] = boundsOf(d.boundary as GeoJSON.Geometry);
                return listPublishedGrids(token, [w, s, e, n].join(','));
              }),
            );
      if (disposed) return;
      const byId = new Map<number, GridFeature>();
      for (const c of collections) for (const g of c.features) if (gridInScope(me.scope, g.properties.code)) byId.set(g.id, g);
      state.grids = [...byId.values()].sort((a, b) => (a.properties.code ?? '').localeCompare(b.properties.code ?? ''));
      root.dataset.grids = String(state.grids.length);
      const wanted = url.get('grid');
      const pick = state.grids.find((g) => g.properties.code === wanted) ?? (state.grids.length === 1 ? state.grids[0] : undefined);
      if (pick) chooseGrid(pick, true);
      else renderGrids();
    } catch (err) {
      if (disposed) return;
      state.gridsError = errorText(err);
      renderGrids();
    }
  }

  function chooseGrid(g: GridFeature, restoring = false): void {
    const code = g.properties.code ?? '';
    gridSeq++;
    state.grid = g;
    state.counts = null;
    state.onDuty = null;
    state.members = null;
    state.staffError = null;
    state.notice = null;
    url.set({ grid: code, ...(restoring ? {} : { event: null }) });
    root.dataset.grid = code;
    if (!restoring && detail.selected) detail.close();
    layers.showGrid(g);
    const [[w, s], [e, n]] = boundsOf(g.geometry as GeoJSON.Geometry);
    map.fitBounds([[w, s], [e, n]], { padding: 40, duration: 0, maxZoom: 18 });
    renderAll();
    void loadGridFacts(g);
    void loadEvents(false);
    void loadResidents(false);
  }

  /** Counts, who is on duty and the staff: each shown when it comes. */
  async function loadGridFacts(g: GridFeature): Promise<void> {
    const seq = gridSeq;
    const code = g.properties.code ?? '';
    const fail = (err: unknown): void => {
      if (disposed || seq !== gridSeq) return;
      state.staffError = errorText(err);
      renderStaff();
    };
    void Promise.all([listGridBuildings(token, code, COUNT_PAGE), listGridHouseholds(token, code, COUNT_PAGE)])
      .then(([b, h]) => {
        if (disposed || seq !== gridSeq) return;
        state.counts = { buildings: countText(b.items.length, b.next !== null), households: countText(h.items.length, h.next !== null) };
        renderSummary();
      })
      .catch(fail);
    void fetchOnDuty(token, code)
      .then((d) => {
        if (disposed || seq !== gridSeq) return;
        state.onDuty = d;
        renderStaff();
      })
      .catch(fail);
    await fetchGridMembers(token, g.id)
      .then((m) => {
        if (disposed || seq !== gridSeq) return;
        state.members = m;
        renderStaff();
      })
      .catch(fail);
  }

  async function loadEvents(append: boolean): Promise<void> {
    const grid = state.grid?.properties.code;
    if (!grid) return;
    const seq = ++eventSeq;
    state.eventsBusy = true;
    state.eventsError = null;
    renderEvents();
    try {
      const page = await listEvents(token, { grid, state: OPEN_STATES, limit: EVENT_PAGE, after: append && state.eventsNext !== null ? state.eventsNext : undefined });
      if (disposed || seq !== eventSeq) return;
      state.events = append ? [...state.events, ...page.items] : page.items;
      state.eventsNext = page.next;
    } catch (err) {
      if (disposed || seq !== eventSeq) return;
      state.eventsError = errorText(err);
    }
    state.eventsBusy = false;
    renderEvents();
  }

  async function loadResidents(append: boolean): Promise<void> {
    const grid = state.grid?.properties.code;
    if (!grid) return;
    const seq = ++residentSeq;
    const q = search.value.trim();
    const tag = tagSelect.value;
    state.residentsBusy = true;
    state.residentsError = null;
    if (!append) state.residents = [];
    renderResidents();
    try {
      const page = await listResidents(token, {
        grid,
        ...(q ? { q } : {}),
        ...(tag ? { tag } : {}),
        limit: RESIDENT_PAGE,
        ...(append && state.residentsNext !== null ? { after: state.residentsNext } : {}),
      });
      if (disposed || seq !== residentSeq) return;
      state.residents = append ? [...state.residents, ...page.items] : page.items;
      state.residentsNext = page.next;
    } catch (err) {
      if (disposed || seq !== residentSeq) return;
      state.residentsNext = null;
      state.residentsError = errorText(err);
    }
    state.residentsBusy = false;
    renderResidents();
  }

  function selectEvent(id: number): Promise<void> {
    return detail.show(id, state.events.find((e) => e.id === id));
  }

  const onFilter = (): void => {
    clearTimeout(searchTimer);
    url.set({ q: search.value.trim() || null, tag: tagSelect.value || null });
    void loadResidents(false);
  };
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(onFilter, SEARCH_DELAY_MS);
  });
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      onFilter();
    }
  });
  tagSelect.addEventListener('change', onFilter);

  renderAll();
  void fetchTaxonomy(token)
    .then((tax) => {
      if (!disposed) state.taxonomy = tax;
    })
    .catch(() => undefined);
  void loadGrids();
  const eventId = Number(url.get('event'));
  if (Number.isInteger(eventId) && eventId > 0) void selectEvent(eventId);

  return () => {
    disposed = true;
    clearTimeout(searchTimer);
    detail.dispose();
    layers.remove();
    root.remove();
  };
}

export const view: View = {
  id: 'mygrids',
  // Admin sees every view (views/index.ts); these match the registry's entry.
  roles: ['grid_worker'],
  mount: mountMyGrids,
};
