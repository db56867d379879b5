/**
 * District → street → community selects, filled from the divisions API one level at a time. A level
 * with a single choice is chosen at once (UX review finding 17: one district and one street should
 * not need two clicks), down to the community when the page did not name one.
 */
// `onCommunity` fires on the planner's choices (and a lone community chosen for them), not for the
// community the picker starts with or is shown with `show`: the editor opens those itself.
import type { DivisionSummary } from '@contracts/division';
import { getDivision, listDivisions } from '../../api/layouts';
import { t, type MessageKey } from '../../i18n/i18n';
import { el } from '../../ui/dom';

const LEVELS = ['district', 'street', 'community'] as const;
type Level = (typeof LEVELS)[number];

export interface DivisionPicker {
  /** Shows the chain of a community opened elsewhere (a click on the map). */
  show(code: string): Promise<void>;
}

export function mountDivisionPicker(root: HTMLElement, initial: string | null, onCommunity: (code: string | null) => void): DivisionPicker {
  const selects = {} as Record<Level, HTMLSelectElement>;
  for (const level of LEVELS) {
    const label = el('label', 'field');
    label.append(el('span', '', t(`editor.${level}` as MessageKey)));
    const select = el('select');
    select.dataset.testid = `pick-${level}`;
    select.disabled = true;
    label.append(select);
    root.append(label);
    selects[level] = select;
  }
  // A newer fill of a level wins over one still on its way (a quick change of the level above).
  const generation: Record<Level, number> = { district: 0, street: 0, community: 0 };
  // Only when the page named no community: then a lone community is opened for the planner.
  let autoCommunity = initial === null;

  /** Fills `level` with the children of `parent`, selecting `value`; a lone child is chosen and followed down. */
  const fill = async (level: Level, parent: string | undefined, value: string | null): Promise<void> => {
    const select = selects[level];
    const mine = ++generation[level];
    const items: DivisionSummary[] = (await listDivisions(parent)).items.filter((d) => d.level === level);
    if (mine !== generation[level]) return;
    const none = el('option', '', t('editor.choose'));
    none.value = '';
    select.replaceChildren(none, ...items.map((d) => Object.assign(el('option', '', d.name), { value: d.code })));
    select.disabled = false;
    select.value = value && items.some((d) => d.code === value) ? value : '';
    const only = items.length === 1 ? items[0]!.code : undefined;
    if (value !== null || only === undefined) return;
    if (level === 'community') {
      if (!autoCommunity) return;
      select.value = only;
      onCommunity(only);
      return;
    }
    select.value = only;
    await fill(level === 'district' ? 'street' : 'community', only, null);
  };
  const clearBelow = (level: Level): void => {
    for (const l of LEVELS.slice(LEVELS.indexOf(level) + 1)) {
      generation[l]++;
      selects[l].replaceChildren();
      selects[l].disabled = true;
    }
  };

  selects.district.addEventListener('change', () => {
    clearBelow('district');
    onCommunity(null);
    autoCommunity = true;
    if (selects.district.value) void fill('street', selects.district.value, null);
  });
  selects.street.addEventListener('change', () => {
    clearBelow('street');
    onCommunity(null);
    autoCommunity = true;
    if (selects.street.value) void fill('community', selects.street.value, null);
  });
  selects.community.addEventListener('change', () => onCommunity(selects.community.value || null));

  /** Restores the chain of a community: its ancestors say which district and street; the lists are fetched at once. */
  const show = async (code: string | null): Promise<void> => {
    const detail = code ? await getDivision(code).catch(() => undefined) : undefined;
    const district = detail?.ancestors.find((a) => a.level === 'district')?.code ?? null;
    const street = detail?.ancestors.find((a) => a.level === 'street')?.code ?? null;
    await Promise.all([
      fill('district', undefined, district),
      district ? fill('street', district, street) : undefined,
      street ? fill('community', street, detail?.level === 'community' ? detail.code : null) : undefined,
    ]);
  };
  // The editor opens the community named in the URL itself, without waiting for the lists.
  void show(initial);
  return {
    show: async (code) => {
      autoCommunity = false;
      await show(code);
    },
  };
}
