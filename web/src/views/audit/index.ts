/**
 * The audit log for auditors: the entries newest first in a table, filtered as the API allows (action
 * or action prefix, actor, target, outcome, time range; ../../../server/contracts/audit.ts), paged
 * with `nextBefore`, and a button that verifies the hash chain and says whether it is intact or where
 * it first breaks. No map: the registry marks the view `mapless` and the shell gives it the width.
 */
import type { AuditEntry, AuditVerification } from '@contracts/audit';
import { listAudit, verifyAudit } from '../../api/audit';
import { errorText } from '../../api/error-text';
import { getLocale, t, type MessageKey } from '../../i18n/i18n';
import { el, field, formatTime, option } from '../dispatch/dom';
import '../shared/event-ui.css';
import type { View, ViewContext } from '../view';
import { zhCN as dispatchZh } from '../dispatch/messages';
import { zhCN } from './messages';
import { auditQuery, EMPTY_FILTERS, type AuditFilterForm } from './query';
import './audit.css';

const PAGE = 100;
const OUTCOMES = ['success', 'failure', 'denied'] as const;
/** The filters live in the URL under these keys (prefixed: other views use `from`/`to` differently). */
const URL_KEYS: Record<keyof AuditFilterForm, string> = {
  action: 'auditAction',
  actorName: 'auditActor',
  targetType: 'auditTargetType',
  targetId: 'auditTargetId',
  outcome: 'auditOutcome',
  from: 'auditFrom',
  to: 'auditTo',
};

function text(prefix: string, value: string): string {
  const key = `audit.${prefix}.${value}`;
  return key in zhCN ? t(key as MessageKey) : value;
}

/**
 * An action in the reader's language (the code stays beside it: the action filter takes codes). Event
 * workflow actions (`event.accept`, `event.approve_extension`) take the dispatch console's words; entries
 * written before the action was named like the others read `event.extension_approve` (the log is
 * append-only, old entries keep their code).
 */
export function actionText(action: string): string {
  const key = `audit.action.${action}`;
  if (key in zhCN) return t(key as MessageKey);
  const verb = /^event\.(.+)$/.exec(action)?.[1];
  if (verb) {
    const name = verb === 'extension_approve' ? 'approve_extension' : verb;
    const label = `dispatch.action.${name}`;
    if (label in dispatchZh) return t('audit.action.event', { action: t(label as MessageKey) });
  }
  return action;
}

function targetText(e: AuditEntry): string {
  if (!e.targetType) return '';
  return `${text('target', e.targetType)}${e.targetId ? ` ${e.targetId}` : ''}`;
}

function actorText(e: AuditEntry): string {
  if (e.actorKind === 'system') return t('audit.actor.system');
  if (e.actorKind === 'anonymous') return e.actorName ?? t('audit.actor.anonymous');
  const name = e.actorName ?? (e.actorUserId === null ? '' : `#${e.actorUserId}`);
  return e.actorKind === 'token' ? t('audit.actor.token', { name }) : name;
}

export function mountAudit(ctx: ViewContext): () => void {
  const { panel, url, token } = ctx;
  const form: AuditFilterForm = { ...EMPTY_FILTERS };
  for (const k of Object.keys(URL_KEYS) as Array<keyof AuditFilterForm>) form[k] = url.get(URL_KEYS[k]) ?? '';
  let entries: AuditEntry[] = [];
  let nextBefore: number | null = null;
  let busy = false;
  let error: string | null = null;
  let verification: AuditVerification | null = null;
  let verifying = false;
  let verifyError: string | null = null;
  let disposed = false;
  let seq = 0;

  const root = el('section', { class: 'wg-view wg-audit', testid: 'audit-view' });
  const verifyBox = el('div', { class: 'wg-audit-verify' });
  const tableBox = el('div', { class: 'wg-audit-table-box' });
  const listStatus = el('div');

  // ---- the filter form (built once: typing never loses focus) ----
  const inputs = {} as Record<keyof AuditFilterForm, HTMLInputElement | HTMLSelectElement>;
  const textInput = (k: keyof AuditFilterForm, type = 'text'): HTMLInputElement => {
    const input = el('input', { testid: `audit-filter-${k}` });
    input.type = type;
    input.value = form[k];
    inputs[k] = input;
    return input;
  };
  const action = textInput('action');
  action.placeholder = t('audit.filter.actionPlaceholder');
  action.pattern = '[a-z_.]{1,100}';
  const actor = textInput('actorName');
  actor.maxLength = 64;
  const targetType = textInput('targetType');
  targetType.maxLength = 64;
  const targetId = textInput('targetId');
  targetId.maxLength = 200;
  const outcome = el('select', { testid: 'audit-filter-outcome' });
  outcome.append(option('', t('audit.filter.all'), form.outcome === ''), ...OUTCOMES.map((o) => option(o, text('outcome', o), form.outcome === o)));
  inputs.outcome = outcome;
  const from = textInput('from', 'datetime-local');
  const to = textInput('to', 'datetime-local');
  const apply = el('button', { class: 'wg-primary', testid: 'audit-apply', text: t('audit.filter.apply') });
  apply.type = 'submit';
  const reset = el('button', { testid: 'audit-reset', text: t('audit.filter.reset') });
  reset.type = 'button';
  const filters = el(
    'form',
    { class: 'wg-audit-filters', testid: 'audit-filters' },
    field(t('audit.filter.action'), action),
    field(t('audit.filter.actor'), actor),
    field(t('audit.filter.outcome'), outcome),
    field(t('audit.filter.targetType'), targetType),
    field(t('audit.filter.targetId'), targetId),
    field(t('audit.filter.from'), from),
    field(t('audit.filter.to'), to),
    el('div', { class: 'wg-buttons' }, apply, reset),
  );
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const k of Object.keys(inputs) as Array<keyof AuditFilterForm>) form[k] = inputs[k].value;
    url.set(Object.fromEntries((Object.keys(URL_KEYS) as Array<keyof AuditFilterForm>).map((k) => [URL_KEYS[k], form[k].trim() || null])));
    void load(false);
  });
  reset.addEventListener('click', () => {
    for (const k of Object.keys(inputs) as Array<keyof AuditFilterForm>) inputs[k].value = '';
    filters.requestSubmit();
  });

  const verifyButton = el('button', { testid: 'audit-verify', text: t('audit.verify') });
  verifyButton.type = 'button';
  verifyButton.addEventListener('click', () => void verify());

  root.append(el('h2', { class: 'wg-title', text: t('audit.title') }), el('p', { class: 'wg-hint', text: t('audit.hint') }), verifyBox, filters, tableBox, listStatus);
  panel.append(root);

  // ---- rendering ----
  const renderVerify = (): void => {
    verifyButton.disabled = verifying;
    verifyBox.replaceChildren(verifyButton);
    const result = el('p', { testid: 'audit-verify-result' });
    if (verifying) result.append(el('span', { class: 'wg-muted', text: t('audit.verifying') }));
    else if (verifyError) result.append(el('span', { class: 'wg-error', text: t('dispatch.error', { message: verifyError }) }));
    else if (verification) {
      const v = verification;
      result.dataset.ok = String(v.ok);
      result.className = v.ok ? 'wg-audit-intact' : 'wg-audit-broken';
      result.textContent = v.ok || !v.firstBroken
        ? t('audit.verify.intact', { checked: v.checked, head: v.headId })
        : t('audit.verify.broken', { id: v.firstBroken.id, reason: text('reason', v.firstBroken.reason), checked: v.checked });
    } else return;
    verifyBox.append(result);
  };

  const renderTable = (): void => {
    const table = el('table', { class: 'wg-audit-table', testid: 'audit-table' });
    const head = el('tr');
    for (const c of ['at', 'actor', 'action', 'outcome', 'target', 'ip', 'details']) head.append(el('th', { text: t(`audit.col.${c}` as MessageKey) }));
    const body = el('tbody');
    for (const e of entries) {
      const details = Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : '';
      const tr = el(
        'tr',
        { testid: 'audit-row', class: `wg-outcome-${e.outcome}` },
        el('td', { class: 'wg-nowrap', text: formatTime(e.at, getLocale()), title: `#${e.id} ${e.at}` }),
        el('td', { testid: 'audit-actor', text: actorText(e) }),
        el('td', { testid: 'audit-action' }, el('span', { text: actionText(e.action) }), ' ', el('small', { class: 'wg-code wg-muted', text: e.action })),
        el('td', { text: text('outcome', e.outcome) }),
        el('td', { testid: 'audit-target', text: targetText(e) }),
        el('td', { class: 'wg-code', text: e.ip ?? '' }),
        el('td', { class: 'wg-code wg-details', text: details, title: details }),
      );
      tr.dataset.id = String(e.id);
      tr.dataset.action = e.action;
      tr.dataset.actor = e.actorName ?? '';
      tr.dataset.outcome = e.outcome;
      body.append(tr);
    }
    table.append(el('thead', {}, head), body);
    tableBox.replaceChildren(table);

    listStatus.replaceChildren();
    if (error) listStatus.append(el('p', { class: 'wg-error', testid: 'audit-error', text: t('dispatch.error', { message: error }) }));
    if (busy) listStatus.append(el('p', { class: 'wg-muted', text: t('audit.loading') }));
    else if (entries.length === 0 && !error) listStatus.append(el('p', { class: 'wg-muted', testid: 'audit-empty', text: t('audit.empty') }));
    else listStatus.append(el('p', { class: 'wg-muted', text: t('audit.shown', { count: entries.length }) }));
    if (nextBefore !== null && !busy) {
      const more = el('button', { testid: 'audit-more', text: t('audit.more') });
      more.type = 'button';
      more.addEventListener('click', () => void load(true));
      listStatus.append(more);
    }
    root.dataset.entries = busy ? 'loading' : String(entries.length);
  };

  // ---- behaviour ----
  async function load(append: boolean): Promise<void> {
    const mine = ++seq;
    busy = true;
    error = null;
    if (!append) entries = [];
    renderTable();
    try {
      const page = await listAudit(token, { ...auditQuery(form), limit: PAGE, ...(append && nextBefore !== null ? { before: nextBefore } : {}) });
      if (disposed || mine !== seq) return;
      entries = append ? [...entries, ...page.entries] : page.entries;
      nextBefore = page.nextBefore;
    } catch (err) {
      if (disposed || mine !== seq) return;
      nextBefore = null;
      error = errorText(err);
    }
    busy = false;
    renderTable();
  }

  async function verify(): Promise<void> {
    verifying = true;
    verifyError = null;
    renderVerify();
    try {
      verification = await verifyAudit(token);
    } catch (err) {
      verification = null;
      verifyError = errorText(err);
    }
    if (disposed) return;
    verifying = false;
    renderVerify();
  }

  renderVerify();
  void load(false);

  return () => {
    disposed = true;
    root.remove();
  };
}

export const view: View = {
  id: 'audit',
  // Admin sees every view (views/index.ts); these match the registry's entry.
  roles: ['auditor'],
  mount: mountAudit,
};
