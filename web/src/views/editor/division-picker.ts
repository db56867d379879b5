/** District → street → community selects, filled from the divisions API one level at a time. */
// `onCommunity` fires on the planner's choices only, not for the community the picker starts with.
import type { DivisionSummary } from '@contracts/division';
import { getDivision, listDivisions } from '../../api/layouts';
import { t, type MessageKey } from '../../i18n/i18n';
import { el } from '../../ui/dom';

const LEVELS = ['district', 'street', 'community'] as const;
type Level = (typeof LEVELS)[number];

export function mountDivisionPicker(root: HTMLElement, initial: string | null, onCommunity: (code: string | null) => void): void {
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

  const fill = async (level: Level, parent: string | undefined, value: string | null): Promise<void> => {
    const select = selects[level];
    const items: DivisionSummary[] = (await listDivisions(parent)).items.filter((d) => d.level === level);
    const none = el('option', '', t('editor.choose'));
    none.value = '';
    select.replaceChildren(none, ...items.map((d) => Object.assign(el('option', '', d.name), { value: d.code })));
    select.disabled = false;
    select.value = value && items.some((d) => d.code === value) ? value : '';
  };
  const clearBelow = (level: Level): void => {
    for (const l of LEVELS.slice(LEVELS.indexOf(level) + 1)) {
      selects[l].replaceChildren();
      selects[l].disabled = true;
    }
  };

  selects.district.addEventListener('change', () => {
    clearBelow('district');
    onCommunity(null);
    if (selects.district.value) void fill('street', selects.district.value, null);
  });
  selects.street.addEventListener('change', () => {
    clearBelow('street');
    onCommunity(null);
    if (selects.street.value) void fill('community', selects.street.value, null);
  });
  selects.community.addEventListener('change', () => onCommunity(selects.community.value || null));

  void (async () => {
    // Restore the chain of a community named in the URL: its ancestors say which district and street;
    // the three lists are fetched at once. The editor opens that community itself, without waiting.
    const detail = initial ? await getDivision(initial).catch(() => undefined) : undefined;
    const district = detail?.ancestors.find((a) => a.level === 'district')?.code ?? null;
    const street = detail?.ancestors.find((a) => a.level === 'street')?.code ?? null;
    await Promise.all([
      fill('district', undefined, district),
      district ? fill('street', district, street) : undefined,
      street ? fill('community', street, detail?.level === 'community' ? detail.code : null) : undefined,
    ]);
  })();
}
