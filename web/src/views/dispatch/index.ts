/**
 * Dispatch console (issue #10): click the map or type an address → the responsible grid highlighted,
 * its community and street, staff with roles and phones, who is on duty now and which fallback step
 * answered; file an event there in one click; work the open events list (deadline status, filters, the
 * case timeline, the actions the server allows as buttons).
 */
import type { DispatchResult } from '@contracts/dispatch';
import type { Event, EventChannel, EventState, Taxonomy } from '@contracts/events';
import { errorText } from '../../api/error-text';
import { lookupAddress, lookupPoint, type DispatchAddressCandidate } from '../../api/dispatch';
import { createEvent, fetchGrid, fetchTaxonomy, listEvents } from '../../api/events';
import { getLocale, onLocaleChange, t, type MessageKey } from '../../i18n/i18n';
import type { View, ViewContext } from '../view';
import { DispatchLayers } from './dispatch-map';
import { appendEventList, categorySelect as sharedCategorySelect, EventDetail, label, type StaffChoice } from '../shared/event-detail';
import { el, field, newIdempotencyKey, option } from './dom';
import { fallbackReason } from './fallback-reason';
import './dispatch.css';

const CHANNELS: readonly EventChannel[] = ['hotline', 'patrol', 'resident', 'video', 'assigned'];
const STATES: readonly EventState[] = ['reported', 'accepted', 'rejected', 'dispatched', 'in_progress', 'resolved', 'verified', 'closed'];
const OPEN_STATES = 'reported,accepted,dispatched,in_progress,resolved,verified';
const SUGGEST_DELAY_MS = 250;

interface State {
  taxonomy: Taxonomy | null;
  lookup: DispatchResult | null;
  lookupBusy: boolean;
  lookupError: string | null;
  filing: { key: string; error: string | null; busy: boolean } | null;
  notice: string | null;
  events: Event[];
  next: number | null;
  eventsBusy: boolean;
  eventsError: string | null;
  filter: { state: string; category: string; overdue: boolean };
  suggestions: DispatchAddressCandidate[] | null;
  suggestIndex: number;
  /** The address searched with Enter that matched nothing (shown instead of an older result). */
  noMatch: string | null;
}

export function mountDispatch(ctx: ViewContext): () => void {
  const { map, panel, url, me, token } = ctx;
  const canWrite = me.permissions.includes('events:write');
  const canLookup = me.permissions.includes('dispatch:lookup');
  const state: State = {
    taxonomy: null,
    lookup: null,
    lookupBusy: false,
    lookupError: null,
    filing: null,
    notice: null,
    events: [],
    next: null,
    eventsBusy: false,
    eventsError: null,
    filter: { state: url.get('state') === 'all' ? '' : (url.get('state') ?? 'open'), category: url.get('category') ?? '', overdue: url.get('overdue') === 'true' },
    suggestions: null,
    suggestIndex: -1,
    noMatch: null,
  };
  let disposed = false;
  let lookupSeq = 0;
  let listSeq = 0;
  let suggestTimer: ReturnType<typeof setTimeout> | undefined;
  let suggestAbort: AbortController | undefined;

  const layers = new DispatchLayers({
    onMapClick: (lon, lat) => {
      if (canLookup) void runLookup(lon, lat);
    },
    onEventClick: (id) => void selectEvent(id),
  });
  layers.add(map);
  const detail = new EventDetail({
    token,
    testid: 'dispatch',
    canWrite,
    taxonomy: () => state.taxonomy,
    staffFor: dispatchStaff,
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
  const root = el('section', { class: 'wg-view wg-dispatch', testid: 'dispatch-view' });
  const title = el('h2', { class: 'wg-title' });
  const hint = el('p', { class: 'wg-hint' });
  const searchLabel = el('span', { class: 'wg-label' });
  const search = el('input', { testid: 'dispatch-search' });
  search.type = 'search';
  search.autocomplete = 'off';
  search.setAttribute('role', 'combobox');
  search.setAttribute('aria-autocomplete', 'list');
  const suggestionList = el('ul', { class: 'wg-suggestions', testid: 'dispatch-suggestions' });
  suggestionList.setAttribute('role', 'listbox');
  const searchBox = el('div', { class: 'wg-search' }, el('label', {}, searchLabel, search), suggestionList);
  const resultBox = el('div', { class: 'wg-result', testid: 'dispatch-result' });
  const fileBox = el('div', { class: 'wg-file', testid: 'dispatch-file' });
  const noticeBox = el('p', { class: 'wg-notice', testid: 'dispatch-notice' });
  const eventsBox = el('section', { class: 'wg-events', testid: 'dispatch-events-section' });
  root.append(title, hint, canLookup ? searchBox : '', resultBox, fileBox, noticeBox, eventsBox, detail.element);
  panel.append(root);

  // ---- rendering ----
  const renderStatic = (): void => {
    title.textContent = t('dispatch.title');
    hint.textContent = t('dispatch.hint');
    searchLabel.textContent = t('dispatch.search.label');
    search.placeholder = t('dispatch.search.placeholder');
  };

  const renderSuggestions = (): void => {
    suggestionList.replaceChildren();
    const list = state.suggestions;
    if (list === null) {
      suggestionList.hidden = true;
      return;
    }
    suggestionList.hidden = false;
    if (list.length === 0) {
      suggestionList.append(el('li', { class: 'wg-empty', text: t('dispatch.search.none') }));
      return;
    }
    list.forEach((c, i) => {
      const item = el(
        'li',
        { class: i === state.suggestIndex ? 'active' : '', testid: 'dispatch-suggestion' },
        el('strong', { text: c.name }),
        el('span', { class: 'wg-kind', text: label('kind', c.kind) }),
        el('small', { text: [c.address, c.community?.name, c.grid?.name].filter(Boolean).join(' · ') }),
      );
      item.setAttribute('role', 'option');
      // mousedown, not click: the input's blur would hide the list before a click lands.
      item.addEventListener('mousedown', (ev) => {
        ev.preventDefault();
        pickSuggestion(c);
      });
      suggestionList.append(item);
    });
  };

  const renderResult = (): void => {
    resultBox.replaceChildren();
    if (state.lookupBusy) resultBox.append(el('p', { class: 'wg-muted', text: t('dispatch.result.loading') }));
    if (state.lookupError) resultBox.append(el('p', { class: 'wg-error', text: t('dispatch.error', { message: state.lookupError }) }));
    if (state.noMatch !== null) resultBox.append(el('p', { class: 'wg-warning', testid: 'dispatch-no-match', text: t('dispatch.search.noMatch', { query: state.noMatch }) }));
    const r = state.lookup;
    if (!r) return;
    const statusText =
      r.status === 'nearest_grid' ? t('dispatch.status.nearest_grid', { distance: Math.round(r.grid?.distanceM ?? 0) }) : label('status', r.status);
    // The server's own explanation is English: a tooltip for English readers only (the status and the
    // fallback reasons below are in the reader's language).
    resultBox.append(el('p', { class: `wg-status wg-status-${r.status}`, testid: 'dispatch-status', text: statusText, ...(getLocale() === 'en' ? { title: r.message } : {}) }));
    if (r.ambiguous && r.grid) {
      resultBox.append(
        el('p', { class: 'wg-warning', testid: 'dispatch-ambiguous', text: t('dispatch.ambiguous', { grid: `${r.grid.name} ${r.grid.code}`, others: r.candidates.map((c) => `${c.name} ${c.code}`).join(t('list.separator')) }) }),
      );
    }
    const dl = el('dl', { class: 'wg-places' });
    const row = (key: MessageKey, value: { code: string; name: string } | null, testid: string): void => {
      dl.append(el('dt', { text: t(key) }), el('dd', { testid, text: value ? `${value.name}（${value.code}）` : t('dispatch.result.none') }));
    };
    row('dispatch.result.grid', r.grid, 'dispatch-grid');
    row('dispatch.result.community', r.community, 'dispatch-community');
    row('dispatch.result.street', r.street, 'dispatch-street');
    row('dispatch.result.district', r.district, 'dispatch-district');
    resultBox.append(dl);
    if (r.grid) resultBox.dataset.gridCode = r.grid.code;
    else delete resultBox.dataset.gridCode;

    if (r.responder) {
      resultBox.append(el('p', { class: 'wg-responder', testid: 'dispatch-responder', text: t('dispatch.responder', { name: r.responder.name, role: label('role', r.responder.role) }) }));
    }
    resultBox.append(el('h3', { text: t('dispatch.onduty.title') }));
    if (r.onDuty.length === 0) resultBox.append(el('p', { class: 'wg-muted', text: t('dispatch.onduty.none') }));
    else {
      const ul = el('ul', { class: 'wg-people', testid: 'dispatch-onduty' });
      for (const p of r.onDuty) ul.append(person(p.name, p.role, p.phone, label('level', p.level), 'dispatch-onduty-person'));
      resultBox.append(ul);
    }
    if (r.grid) {
      resultBox.append(el('h3', { text: t('dispatch.staff.title') }));
      if (r.staff.length === 0) resultBox.append(el('p', { class: 'wg-muted', text: t('dispatch.staff.none') }));
      else {
        const ul = el('ul', { class: 'wg-people', testid: 'dispatch-staff' });
        for (const p of r.staff) ul.append(person(p.name, p.role, p.phone, null, 'dispatch-staff-person'));
        resultBox.append(ul);
      }
    }
    if (r.fallback.length > 0) {
      resultBox.append(el('h3', { text: t('dispatch.fallback.title') }));
      const ol = el('ol', { class: 'wg-fallback', testid: 'dispatch-fallback' });
      for (const f of r.fallback) {
        const li = el('li', { class: `wg-outcome-${f.outcome}`, title: fallbackReason(f, r) }, `${label('step', f.step)} — ${label('outcome', f.outcome)}`);
        li.dataset.step = f.step;
        li.dataset.outcome = f.outcome;
        ol.append(li);
      }
      resultBox.append(ol);
    }
    if (canWrite && r.status !== 'outside' && !state.filing) {
      const btn = el('button', { class: 'wg-primary', testid: 'dispatch-file-open', text: t('dispatch.file.button') });
      btn.type = 'button';
      btn.addEventListener('click', () => {
        state.filing = { key: newIdempotencyKey(), error: null, busy: false };
        renderResult();
        renderFile();
      });
      resultBox.append(btn);
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

  function categorySelect(selected: string, includeAll: boolean, leavesOnly: boolean): HTMLSelectElement {
    return sharedCategorySelect(state.taxonomy, selected, includeAll, leavesOnly);
  }

  const renderFile = (): void => {
    fileBox.replaceChildren();
    const f = state.filing;
    const r = state.lookup;
    if (!f || !r) return;
    const category = categorySelect('', false, true);
    category.dataset.testid = 'dispatch-file-category';
    // No category is chosen for the dispatcher: an empty first option, which `required` refuses.
    category.prepend(option('', t('dispatch.file.chooseCategory'), true));
    category.required = true;
    const channel = el('select', { testid: 'dispatch-file-channel' });
    for (const c of CHANNELS) channel.append(option(c, label('channel', c)));
    const description = el('textarea', { testid: 'dispatch-file-description' });
    description.rows = 3;
    description.required = true;
    description.maxLength = 10000;
    const submit = el('button', { class: 'wg-primary', testid: 'dispatch-file-submit', text: t('dispatch.file.submit') });
    submit.type = 'submit';
    submit.disabled = f.busy;
    const cancel = el('button', { testid: 'dispatch-file-cancel', text: t('dispatch.file.cancel') });
    cancel.type = 'button';
    cancel.addEventListener('click', () => {
      state.filing = null;
      renderFile();
      renderResult();
    });
    const form = el(
      'form',
      {},
      el('h3', { text: t('dispatch.file.title') }),
      field(t('dispatch.file.category'), category),
      field(t('dispatch.file.channel'), channel),
      field(t('dispatch.file.description'), description),
      f.error ? el('p', { class: 'wg-error', text: t('dispatch.error', { message: f.error }) }) : null,
      el('div', { class: 'wg-buttons' }, submit, cancel),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void fileEvent(r, { category: category.value, channel: channel.value as EventChannel, description: description.value.trim() });
    });
    fileBox.append(form);
    description.focus();
  };

  const renderNotice = (): void => {
    noticeBox.textContent = state.notice ?? '';
    noticeBox.hidden = !state.notice;
  };

  const renderEvents = (): void => {
    eventsBox.replaceChildren();
    eventsBox.append(el('h2', { class: 'wg-title', text: t('dispatch.events.title') }));
    const stateSel = el('select', { testid: 'dispatch-filter-state' });
    stateSel.append(option('open', t('dispatch.events.filter.open'), state.filter.state === 'open'), option('', t('dispatch.events.filter.all'), state.filter.state === ''));
    for (const s of STATES) stateSel.append(option(s, label('state', s), state.filter.state === s));
    const catSel = categorySelect(state.filter.category, true, false);
    catSel.dataset.testid = 'dispatch-filter-category';
    const overdue = el('input', { testid: 'dispatch-filter-overdue' });
    overdue.type = 'checkbox';
    overdue.checked = state.filter.overdue;
    const onFilter = (): void => {
      state.filter = { state: stateSel.value, category: catSel.value, overdue: overdue.checked };
      url.set({ state: state.filter.state === 'open' ? null : state.filter.state || 'all', category: state.filter.category || null, overdue: state.filter.overdue ? 'true' : null });
      void loadEvents(false);
    };
    for (const c of [stateSel, catSel, overdue]) c.addEventListener('change', onFilter);
    eventsBox.append(
      el(
        'div',
        { class: 'wg-filters' },
        field(t('dispatch.events.filter.state'), stateSel),
        field(t('dispatch.events.filter.category'), catSel),
        el('label', { class: 'wg-check' }, overdue, t('dispatch.events.filter.overdue')),
      ),
    );
    const now = Date.now();
    appendEventList(eventsBox, {
      testid: 'dispatch', events: state.events, selectedId: detail.selected?.id ?? null, busy: state.eventsBusy, error: state.eventsError ?? null,
      hasMore: state.next !== null, loadingText: t('dispatch.events.loading'), emptyText: t('dispatch.events.empty'),
      onSelect: (id) => void selectEvent(id), onMore: () => void loadEvents(true),
    }, now);
    layers.showEvents(state.events, detail.selected?.id ?? null, now);
  };

  const renderAll = (): void => {
    renderStatic();
    renderSuggestions();
    renderResult();
    renderFile();
    renderNotice();
    renderEvents();
    detail.render();
  };

  // ---- behaviour ----
  async function runLookup(lon: number, lat: number): Promise<void> {
    const seq = ++lookupSeq;
    state.lookupBusy = true;
    state.lookupError = null;
    state.noMatch = null;
    state.filing = null;
    layers.showPoint([lon, lat]);
    renderResult();
    renderFile();
    try {
      const r = await lookupPoint(token, lon, lat);
      if (disposed || seq !== lookupSeq) return;
      state.lookup = r;
      url.set({ lon: r.position.lon.toFixed(6), lat: r.position.lat.toFixed(6) });
      layers.showPoint([r.position.lon, r.position.lat]);
      const grid = r.grid ? await fetchGrid(token, r.grid.id).catch(() => null) : null;
      if (disposed || seq !== lookupSeq) return;
      layers.showGrid(grid);
    } catch (err) {
      if (disposed || seq !== lookupSeq) return;
      state.lookup = null;
      state.lookupError = errorText(err);
      layers.showGrid(null);
    } finally {
      if (!disposed && seq === lookupSeq) {
        state.lookupBusy = false;
        renderResult();
        root.dataset.lookup = state.lookup ? 'done' : 'failed';
      }
    }
  }

  function scheduleSuggest(): void {
    clearTimeout(suggestTimer);
    const q = search.value.trim();
    // Two Chinese characters already name a place (e.g. 金桥); the server handles 2-character queries.
    if (q.length < 2) {
      suggestAbort?.abort();
      state.suggestions = null;
      renderSuggestions();
      return;
    }
    suggestTimer = setTimeout(() => {
      suggestAbort?.abort();
      const abort = new AbortController();
      suggestAbort = abort;
      lookupAddress(token, q, abort.signal)
        .then((answer) => {
          if (disposed || abort.signal.aborted) return;
          state.suggestions = answer.candidates;
          state.suggestIndex = answer.candidates.length > 0 ? 0 : -1;
          renderSuggestions();
        })
        .catch((err: unknown) => {
          if (disposed || abort.signal.aborted) return;
          state.suggestions = null;
          state.lookupError = errorText(err);
          renderSuggestions();
          renderResult();
        });
    }, SUGGEST_DELAY_MS);
  }

  function pickSuggestion(c: DispatchAddressCandidate): void {
    search.value = c.address && c.address !== c.name ? `${c.name} ${c.address}` : c.name;
    suggestAbort?.abort();
    state.suggestions = null;
    renderSuggestions();
    map.easeTo({ center: [c.lon, c.lat], zoom: Math.max(map.getZoom(), 16), duration: 300 });
    void runLookup(c.lon, c.lat);
  }

  /**
   * Enter with no suggestion to pick (none matched, or the list is not in yet): search now; the first
   * match is looked up, and no match says so in place of the previous result, which was about another
   * place (a dispatcher must not file against it thinking it is the address just typed).
   */
  async function searchNow(): Promise<void> {
    const q = search.value.trim();
    if (q.length < 2) return;
    clearTimeout(suggestTimer);
    suggestAbort?.abort();
    const abort = new AbortController();
    suggestAbort = abort;
    try {
      const answer = await lookupAddress(token, q, abort.signal);
      if (disposed || abort.signal.aborted) return;
      const first = answer.candidates[0];
      if (first) {
        pickSuggestion(first);
        return;
      }
      lookupSeq++; // a lookup still on its way is about an older place
      state.lookup = null;
      state.lookupBusy = false;
      state.lookupError = null;
      state.filing = null;
      state.noMatch = q;
      layers.showPoint(null);
      layers.showGrid(null);
      url.set({ lon: null, lat: null });
      root.dataset.lookup = 'no-match';
      renderResult();
      renderFile();
    } catch (err) {
      if (disposed || abort.signal.aborted) return;
      state.lookupError = errorText(err);
      renderResult();
    }
  }

  search.addEventListener('input', scheduleSuggest);
  search.addEventListener('keydown', (ev) => {
    const list = state.suggestions;
    if (ev.key === 'Escape') {
      state.suggestions = null;
      renderSuggestions();
      return;
    }
    if (ev.key === 'Enter' && (!list || list.length === 0)) {
      ev.preventDefault();
      void searchNow();
      return;
    }
    if (!list || list.length === 0) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      state.suggestIndex = (state.suggestIndex + (ev.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length;
      renderSuggestions();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      const c = list[Math.max(0, state.suggestIndex)];
      if (c) pickSuggestion(c);
    }
  });
  search.addEventListener('blur', () => {
    state.suggestions = null;
    renderSuggestions();
  });

  async function fileEvent(r: DispatchResult, input: { category: string; channel: EventChannel; description: string }): Promise<void> {
    const f = state.filing;
    if (!f || f.busy) return;
    f.busy = true;
    f.error = null;
    try {
      const created = await createEvent(
        token,
        { location: { type: 'Point', coordinates: [r.position.lon, r.position.lat] }, category: input.category, channel: input.channel, description: input.description },
        f.key,
      );
      if (disposed) return;
      state.filing = null;
      state.notice =
        t('dispatch.file.done', { id: created.id }) +
        (created.possibleDuplicates.length > 0 ? ` ${t('dispatch.file.duplicates', { ids: created.possibleDuplicates.map((d) => `#${d.id}`).join(t('list.separator')) })}` : '');
      renderFile();
      renderResult();
      renderNotice();
      await loadEvents(false);
      await selectEvent(created.id, created);
    } catch (err) {
      if (disposed) return;
      f.busy = false;
      f.error = errorText(err);
      renderFile();
    }
  }

  async function loadEvents(append: boolean): Promise<void> {
    const seq = ++listSeq;
    state.eventsBusy = true;
    state.eventsError = null;
    renderEvents();
    try {
      const page = await listEvents(token, {
        state: state.filter.state === 'open' ? OPEN_STATES : state.filter.state || undefined,
        category: state.filter.category || undefined,
        overdue: state.filter.overdue ? true : undefined,
        after: append && state.next !== null ? state.next : undefined,
        limit: 50,
      });
      if (disposed || seq !== listSeq) return;
      state.events = append ? [...state.events, ...page.items] : page.items;
      state.next = page.next;
    } catch (err) {
      if (disposed || seq !== listSeq) return;
      state.eventsError = errorText(err);
    } finally {
      if (!disposed && seq === listSeq) {
        state.eventsBusy = false;
        renderEvents();
        root.dataset.events = String(state.events.length);
      }
    }
  }

  function selectEvent(id: number, known?: Event): Promise<void> {
    return detail.show(id, known ?? state.events.find((e) => e.id === id));
  }

  /** Whom `dispatch` offers: the people responsible where the event is, its grid's staff and whoever is on duty now. */
  async function dispatchStaff(e: Event): Promise<StaffChoice[]> {
    const [lon, lat] = e.location.coordinates;
    const r = await lookupPoint(token, lon ?? 0, lat ?? 0);
    const seen = new Set<number>();
    const staff: StaffChoice[] = [];
    for (const p of [...r.staff, ...r.onDuty]) {
      if (seen.has(p.staffId)) continue;
      seen.add(p.staffId);
      staff.push({ id: p.staffId, label: `${p.name}（${label('role', p.role)}）` });
    }
    return staff;
  }

  const offLocale = onLocaleChange(renderAll);
  renderAll();

  // ---- start: taxonomy, list, and whatever the URL asks for ----
  void fetchTaxonomy(token)
    .then((tax) => {
      if (disposed) return;
      state.taxonomy = tax;
      renderEvents();
      renderFile();
    })
    .catch((err: unknown) => {
      if (disposed) return;
      state.eventsError = errorText(err);
      renderEvents();
    });
  void loadEvents(false);
  const lon = Number(url.get('lon'));
  const lat = Number(url.get('lat'));
  if (canLookup && url.get('lon') !== null && Number.isFinite(lon) && Number.isFinite(lat)) void runLookup(lon, lat);
  const eventId = Number(url.get('event'));
  if (Number.isInteger(eventId) && eventId > 0) void selectEvent(eventId);

  return () => {
    disposed = true;
    clearTimeout(suggestTimer);
    suggestAbort?.abort();
    offLocale();
    detail.dispose();
    layers.remove();
    root.remove();
  };
}

export const view: View = {
  id: 'dispatch',
  // Admin sees every view (views/index.ts); these match the registry's entry.
  roles: ['dispatcher', 'community_manager', 'street_manager'],
  mount: mountDispatch,
};
