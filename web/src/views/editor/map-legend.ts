/**
 * The editor's map legend, over the map's bottom-left corner (not at the foot of the panel, where it
 * would sit below the fold): what the building colours (households) and the grid tints (household
 * balance against the target) mean. Colours come from editor-layers.ts, so the two cannot drift apart.
 */
import { t } from '../../i18n/i18n';
import { el } from '../../ui/dom';
import { BALANCE_COLOURS, HOUSEHOLD_COLOURS } from './editor-layers';

function row(colour: string, text: string, kind: 'fill' | 'tint'): HTMLElement {
  const swatch = el('span', `legend-swatch ${kind}`);
  swatch.style.background = colour;
  const item = el('li', '');
  item.append(swatch, el('span', '', text));
  return item;
}

export function editorMapLegend(): HTMLElement {
  const box = el('div', 'editor-map-legend');
  box.dataset.testid = 'editor-legend';
  const households = el('ul', '');
  HOUSEHOLD_COLOURS.forEach(([from], i) => {
    const next = HOUSEHOLD_COLOURS[i + 1]?.[0];
    // Counts under 3 are not in the public tiles (tile-layers.ts): such buildings take the first colour.
    const text = next === undefined ? `≥ ${from}` : from === 0 ? t('editor.legend.few') : `${from}`;
    households.append(row(HOUSEHOLD_COLOURS[i]![1], text, 'fill'));
  });
  const balance = el('ul', '');
  balance.append(
    row(BALANCE_COLOURS.ok, t('editor.legend.ok'), 'tint'),
    row(BALANCE_COLOURS.under, t('editor.legend.under'), 'tint'),
    row(BALANCE_COLOURS.over, t('editor.legend.over'), 'tint'),
    row(BALANCE_COLOURS.unknown, t('editor.legend.unknown'), 'tint'),
  );
  box.append(el('h4', '', t('editor.legend.households')), households, el('h4', '', t('editor.legend.balance')), balance);
  return box;
}
