/**
 * An event's case file, shared by the dispatch console and the grid worker's view: the event list row
 * with its deadline badge, and the detail (deadlines, routing, result, the timeline and the workflow
 * actions the server allows as buttons, with the inputs each action needs). Texts are the dispatch
 * view's messages (`dispatch.*`, always in the catalogue); test ids take the host view's prefix, so
 * each view keeps its own (`dispatch-action-accept`, `mygrids-action-accept`).
 */
import type { Event, Taxonomy, Transition, TransitionBody } from '@contracts/events';
import { errorText } from '../../api/error-text';
import { fetchEvent, fetchTimeline, transitionEvent } from '../../api/events';
import { getLocale, localName, t, type MessageKey } from '../../i18n/i18n';
import { deadlineStatus, DEADLINE_COLOURS } from '../dispatch/deadline';
import { el, field, formatTime, option } from '../dispatch/dom';
import { zhCN } from '../dispatch/messages';
import './event-ui.css';

/** Inputs each action needs (TransitionBody fields), beyond the optional note. */
export const ACTION_FIELDS: Record<string, ReadonlyArray<'reason' | 'result' | 'staff' | 'gridCode' | 'hours' | 'category'>> = {
  reject: ['reason'],
  dispatch: ['staff'],
  resolve: ['result'],
  reopen: ['reason'],
  transfer: ['gridCode', 'reason'],
  request_extension: ['hours', 'reason'],
  amend: ['category'],
};

/** A label from the dispatch messages (`dispatch.<prefix>.<value>`), or the raw value when the server sends something we have no text for. */
export function label(prefix: string, value: string): string {
  const key = `dispatch.${prefix}.${value}`;
  return key in zhCN ? t(key as MessageKey) : value;
}

/** Sub-types (categories with deadlines) grouped under their parent category. */
export function categorySelect(taxonomy: Taxonomy | null, selected: string, includeAll: boolean, leavesOnly: boolean): HTMLSelectElement {
  const select = el('select');
  if (includeAll) select.append(option('', t('dispatch.events.filter.all'), selected === ''));
  const cats = taxonomy?.categories ?? [];
  for (const parent of cats.filter((c) => c.parentCode === null)) {
    const group = el('optgroup');
    group.label = localName(parent);
    if (!leavesOnly) group.append(option(parent.code, localName(parent), parent.code === selected));
    for (const c of cats.filter((x) => x.parentCode === parent.code)) group.append(option(c.code, localName(c), c.code === selected));
    select.append(group);
  }
  return select;
}

/** One row of an event list: id, category, state, deadline badge, grid and time; `data-*` for tests. */
export function eventRow(e: Event, opts: { testid: string; selected: boolean; now: number; onClick: () => void }): HTMLLIElement {
  const status = deadlineStatus(e, opts.now);
  const badge = el('span', { class: `wg-badge wg-badge-${status}`, testid: `${opts.testid}-deadline`, text: label('deadline', status) });
  badge.style.background = DEADLINE_COLOURS[status];
  const li = el(
    'li',
    { class: opts.selected ? 'selected' : '', testid: `${opts.testid}-event` },
    el('span', { class: 'wg-event-id', text: `#${e.id}` }),
    el('span', { class: 'wg-event-cat', text: localName(e.category) }),
    el('span', { class: 'wg-event-state', text: label('state', e.state) }),
    badge,
    el('small', { text: [e.routing.gridName, formatTime(e.reportedAt, getLocale())].filter(Boolean).join(' · ') }),
  );
  li.dataset.eventId = String(e.id);
  li.dataset.state = e.state;
  li.dataset.deadline = status;
  li.addEventListener('click', opts.onClick);
  return li;
}

/** What an event list shows: its page of events, its loading / error / empty lines and "more". */
export interface EventListOptions {
  /** Test-id prefix of the host view (`dispatch`, `mygrids`): `<prefix>-events`, `-events-empty`, `-events-more`. */
  testid: string;
  events: readonly Event[];
  selectedId: number | null;
  busy: boolean;
  error: string | null;
  hasMore: boolean;
  loadingText: string;
  emptyText: string;
  onSelect: (id: number) => void;
  onMore: () => void;
}

/** An event list (rows as eventRow) with its status lines, appended to `box`. */
export function appendEventList(box: HTMLElement, o: EventListOptions, now: number): void {
  if (o.error) box.append(el('p', { class: 'wg-error', text: t('dispatch.error', { message: o.error }) }));
  const ul = el('ul', { class: 'wg-event-list', testid: `${o.testid}-events` });
  for (const e of o.events) ul.append(eventRow(e, { testid: o.testid, selected: e.id === o.selectedId, now, onClick: () => o.onSelect(e.id) }));
  box.append(ul);
  if (o.busy) box.append(el('p', { class: 'wg-muted', text: o.loadingText }));
  else if (o.events.length === 0 && !o.error) box.append(el('p', { class: 'wg-muted', testid: `${o.testid}-events-empty`, text: o.emptyText }));
  if (o.hasMore) {
    const more = el('button', { testid: `${o.testid}-events-more`, text: t('dispatch.events.more') });
    more.type = 'button';
    more.addEventListener('click', o.onMore);
    box.append(more);
  }
}

/** Someone an event may be dispatched to. */
export interface StaffChoice {
  id: number;
  label: string;
}

export interface EventDetailOptions {
  token: string;
  /** Test id prefix of the host view (`dispatch`, `mygrids`). */
  testid: string;
  /** Whether the action buttons are offered (events:write). */
  canWrite: boolean;
  /** The taxonomy, for the category of `amend` (null while it loads). */
  taxonomy(): Taxonomy | null;
  /** Whom `dispatch` offers, for this event (the host knows who is responsible where). */
  staffFor(e: Event): Promise<StaffChoice[]>;
  /** The event the detail shows changed (a transition): the host updates its list and map. */
  onEventChanged(e: Event): void;
  /** The detail opened (an id) or closed (null): the host keeps the URL and the list's highlight. */
  onSelect(id: number | null): void;
  /** A failure the detail has no place for (loading it, a one-click action): already user text. */
  onError(message: string): void;
}

interface ActionState {
  name: string;
  error: string | null;
  busy: boolean;
  staff: StaffChoice[];
}

/** The detail panel of one event; `element` goes where the host wants it. */
export class EventDetail {
  readonly element: HTMLElement;
  private current: Event | null = null;
  private timeline: Transition[] = [];
  private action: ActionState | null = null;
  private disposed = false;
  /** Bumped on every show/close: a late answer about another event is dropped. */
  private seq = 0;

  constructor(private readonly opts: EventDetailOptions) {
    this.element = el('section', { class: 'wg-detail', testid: `${opts.testid}-event-detail` });
  }

  get selected(): Event | null {
    return this.current;
  }

  /** Opens event `id`; `known` is the host's copy when it has one (saves a request). */
  async show(id: number, known?: Event): Promise<void> {
    const seq = ++this.seq;
    const opened = this.current?.id !== id;
    this.action = null;
    try {
      const timeline = await fetchTimeline(this.opts.token, id);
      if (this.disposed || seq !== this.seq) return;
      let e = known ?? (this.current?.id === id ? this.current : null);
      if (!e) e = await fetchEvent(this.opts.token, id);
      if (this.disposed || seq !== this.seq) return;
      this.current = e;
      this.timeline = timeline.transitions;
      this.opts.onSelect(id);
    } catch (err) {
      if (this.disposed || seq !== this.seq) return;
      this.opts.onError(errorText(err));
      this.render();
      return;
    }
    this.render();
    // The detail sits below the event list: with more than a screenful of events a click on a row
    // changed nothing the reader could see. Bring a newly opened case file into view.
    if (opened) this.element.scrollIntoView({ block: 'start' });
  }

  close(): void {
    this.seq++;
    this.current = null;
    this.action = null;
    this.render();
    this.opts.onSelect(null);
  }

  dispose(): void {
    this.disposed = true;
    this.element.remove();
  }

  render(): void {
    const p = this.opts.testid;
    const box = this.element;
    box.replaceChildren();
    const e = this.current;
    if (!e) {
      delete box.dataset.eventId;
      delete box.dataset.state;
      return;
    }
    box.dataset.eventId = String(e.id);
    box.dataset.state = e.state;
    const close = el('button', { class: 'wg-close', testid: `${p}-detail-close`, text: '×', title: t('dispatch.detail.close') });
    close.type = 'button';
    close.addEventListener('click', () => this.close());
    const status = deadlineStatus(e, Date.now());
    box.append(
      el('h3', { text: t('dispatch.detail.title', { id: e.id }) }, close),
      el('p', {}, el('strong', { text: localName(e.category) }), ' · ', el('span', { testid: `${p}-detail-state`, text: label('state', e.state) }), ' · ', el('span', { class: `wg-badge wg-badge-${status}`, text: label('deadline', status) })),
      el('p', { class: 'wg-desc', text: e.description }),
      el('p', { class: 'wg-muted', text: t('dispatch.detail.routing', { grid: e.routing.gridName ? `${e.routing.gridName}（${e.routing.gridCode ?? ''}）` : t('dispatch.result.none'), staff: e.routing.responsibleStaff?.name ?? t('dispatch.result.none') }) }),
    );
    if (status !== 'done') {
      if (e.stageDueAt) box.append(el('p', { class: 'wg-muted', text: t('dispatch.deadline.stage_due', { due: formatTime(e.stageDueAt, getLocale()) }) }));
      box.append(el('p', { class: 'wg-muted', text: t('dispatch.deadline.due', { due: formatTime(e.dueAt, getLocale()) }) }));
    }
    if (e.result) box.append(el('p', { text: t('dispatch.detail.result', { result: e.result }) }));
    if (e.pendingExtension) box.append(el('p', { class: 'wg-warning', text: t('dispatch.detail.pendingExtension', { hours: e.pendingExtension.hours, reason: e.pendingExtension.reason }) }));

    if (this.opts.canWrite && e.allowedActions.length > 0) {
      box.append(el('h4', { text: t('dispatch.detail.actions') }));
      const buttons = el('div', { class: 'wg-buttons wg-actions', testid: `${p}-actions` });
      for (const a of e.allowedActions) {
        const b = el('button', { testid: `${p}-action-${a}`, text: label('action', a) });
        b.type = 'button';
        b.disabled = this.action?.busy ?? false;
        if (this.action?.name === a) b.classList.add('active');
        b.addEventListener('click', () => void this.chooseAction(a));
        buttons.append(b);
      }
      box.append(buttons);
      if (this.action) box.append(this.actionForm(e, this.action));
    }
    box.append(el('h4', { text: t('dispatch.detail.timeline') }));
    const ol = el('ol', { class: 'wg-timeline', testid: `${p}-timeline` });
    for (const tr of this.timeline) {
      const li = el(
        'li',
        {},
        el('time', { text: formatTime(tr.at, getLocale()) }),
        el('strong', { text: label('action', tr.action) }),
        el('span', { class: 'wg-muted', text: `${tr.from ? label('state', tr.from) : '∅'} → ${label('state', tr.to)}` }),
        tr.actor.name ? el('span', { class: 'wg-actor', text: tr.actor.name }) : null,
        tr.note ? el('div', { class: 'wg-note', text: tr.note }) : null,
      );
      li.dataset.action = tr.action;
      ol.append(li);
    }
    box.append(ol);
  }

  private actionForm(e: Event, action: ActionState): HTMLFormElement {
    const p = this.opts.testid;
    const needs = ACTION_FIELDS[action.name] ?? [];
    const form = el('form', { class: 'wg-action-form', testid: `${p}-action-form` });
    const inputs: Partial<Record<string, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>> = {};
    for (const need of needs) {
      if (need === 'staff') {
        const staff = el('select', { testid: `${p}-field-staff` });
        staff.append(option('', '—'));
        for (const s of action.staff) staff.append(option(String(s.id), s.label, s.id === e.routing.responsibleStaff?.id));
        const dept = el('input', { testid: `${p}-field-department` });
        dept.maxLength = 200;
        inputs.staff = staff;
        inputs.department = dept;
        form.append(field(t('dispatch.field.staff'), staff), field(t('dispatch.field.department'), dept));
      } else if (need === 'category') {
        const cat = categorySelect(this.opts.taxonomy(), e.category.code, false, true);
        cat.dataset.testid = `${p}-field-category`;
        inputs.category = cat;
        form.append(field(t('dispatch.file.category'), cat));
      } else {
        const input = need === 'reason' || need === 'result' ? el('textarea', { testid: `${p}-field-${need}` }) : el('input', { testid: `${p}-field-${need}` });
        input.required = true;
        if (input instanceof HTMLInputElement && need === 'hours') {
          input.type = 'number';
          input.min = '1';
          input.max = '2000';
          input.step = '1';
        }
        if (input instanceof HTMLInputElement && need === 'gridCode') input.pattern = '[0-9]{15}';
        inputs[need] = input;
        form.append(field(t(`dispatch.field.${need}` as MessageKey), input));
      }
    }
    const note = el('input', { testid: `${p}-field-note` });
    note.maxLength = 2000;
    form.append(field(t('dispatch.field.note'), note));
    if (action.error) form.append(el('p', { class: 'wg-error', testid: `${p}-action-error`, text: t('dispatch.error', { message: action.error }) }));
    const confirm = el('button', { class: 'wg-primary', testid: `${p}-action-confirm`, text: t('dispatch.action.confirm', { action: label('action', action.name) }) });
    confirm.type = 'submit';
    confirm.disabled = action.busy;
    form.append(confirm);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const body: TransitionBody = { action: action.name as TransitionBody['action'], expectedVersion: e.version };
      const v = (k: string): string => inputs[k]?.value.trim() ?? '';
      if (note.value.trim()) body.note = note.value.trim();
      if (v('reason')) body.reason = v('reason');
      if (v('result')) body.result = v('result');
      if (v('staff')) body.staffId = Number(v('staff'));
      if (v('department')) body.department = v('department');
      if (v('gridCode')) body.gridCode = v('gridCode');
      if (v('hours')) body.hours = Number(v('hours'));
      if (v('category')) body.category = v('category');
      void this.applyAction(e, body);
    });
    return form;
  }

  private async chooseAction(name: string): Promise<void> {
    const e = this.current;
    if (!e) return;
    if (!(name in ACTION_FIELDS)) {
      await this.applyAction(e, { action: name as TransitionBody['action'], expectedVersion: e.version });
      return;
    }
    const action: ActionState = { name, error: null, busy: false, staff: [] };
    this.action = action;
    this.render();
    if (name === 'dispatch') {
      const staff = await this.opts.staffFor(e).catch(() => []);
      if (this.disposed || this.action !== action) return;
      action.staff = staff;
      this.render();
    }
  }

  private async applyAction(e: Event, body: TransitionBody): Promise<void> {
    const action = this.action ?? { name: body.action, error: null, busy: false, staff: [] };
    this.action = action;
    action.busy = true;
    action.error = null;
    this.render();
    try {
      const res = await transitionEvent(this.opts.token, e.id, body);
      if (this.disposed) return;
      this.action = null;
      this.current = res.event;
      this.opts.onEventChanged(res.event);
      this.timeline = (await fetchTimeline(this.opts.token, e.id)).transitions;
    } catch (err) {
      if (this.disposed) return;
      action.busy = false;
      action.error = errorText(err);
      if (!ACTION_FIELDS[action.name]) {
        // A one-click action failed: say why in the host's notice line instead of an empty form.
        this.action = null;
        this.opts.onError(action.error);
      }
    }
    if (!this.disposed) this.render();
  }
}
