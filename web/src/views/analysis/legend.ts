/** Legends of the analysis map and the choropleth's class breaks. */
import { t, type MessageKey } from '../../i18n/i18n';
import { el } from '../dispatch/dom';
import { CHOROPLETH_COLOURS, EMERGING_COLOURS, HOTSPOT_CLASSES } from './colours';

function swatchRow(colour: string, text: string, testid?: string): HTMLLIElement {
  const sw = el('span', { class: 'wg-swatch' });
  sw.style.background = colour;
  return el('li', testid ? { testid } : {}, sw, text);
}

/** The seven ArcGIS confidence classes, hot 99 % first. */
export function hotspotLegend(counts: ReadonlyMap<number, number>): HTMLElement {
  const ul = el('ul', { class: 'wg-legend-list' });
  for (const [bin, colour] of HOTSPOT_CLASSES) {
    const n = counts.get(bin) ?? 0;
    ul.append(swatchRow(colour, `${t(`analysis.bin.${bin}` as MessageKey)} (${n})`, 'analysis-legend-bin'));
  }
  return el('div', { class: 'wg-legend', testid: 'analysis-legend-hotspots' }, el('h4', { text: t('analysis.legend.hotspots') }), ul);
}

export function emergingLegend(counts: ReadonlyMap<string, number>, slices: number): HTMLElement {
  const ul = el('ul', { class: 'wg-legend-list' });
  for (const [category, colour] of Object.entries(EMERGING_COLOURS)) {
    const n = counts.get(category) ?? 0;
    // Only the classes present, plus "no pattern": seventeen rows would drown the panel.
    if (n === 0 && category !== 'no_pattern') continue;
    const key = `analysis.emerging.${category}`;
    ul.append(swatchRow(colour, `${t(key as MessageKey)} (${n})`));
  }
  return el('div', { class: 'wg-legend', testid: 'analysis-legend-emerging' }, el('h4', { text: t('analysis.legend.emerging', { slices }) }), ul);
}

/** Class breaks: lower bounds of classes 2…5 (quantiles of the non-zero values, deduplicated). */
export function quantileBreaks(values: readonly number[], classes = CHOROPLETH_COLOURS.length): number[] {
  const sorted = values.filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const breaks: number[] = [];
  for (let k = 1; k < classes; k++) {
    const v = sorted[Math.min(sorted.length - 1, Math.floor((k * sorted.length) / classes))] ?? 0;
    if (breaks.length === 0 || v > (breaks[breaks.length - 1] ?? 0)) breaks.push(v);
  }
  // The first class holds zeros only when there are zeros: start the second class at the smallest count.
  if ((breaks[0] ?? 0) > (sorted[0] ?? 0)) breaks.unshift(sorted[0] ?? 0);
  return breaks.slice(0, classes - 1);
}

/**
 * The classes' texts. A class runs from its break up to, not including, the next (the map's `step`), so
 * for counts 0, 3 it is "0 – 2" and "≥ 3", not "0 – 3" and "≥ 3" (3 in both); a class of one count is
 * that count. Other values (densities) say where the class stops: "0 – < 0.52".
 */
export function binLabels(breaks: readonly number[], format: (v: number) => string, integers: boolean): string[] {
  const bounds = [0, ...breaks];
  return bounds.map((lo, i) => {
    const hi = bounds[i + 1];
    if (hi === undefined) return `≥ ${format(lo)}`;
    if (!integers) return `${format(lo)} – < ${format(hi)}`;
    return hi - 1 <= lo ? format(lo) : `${format(lo)} – ${format(hi - 1)}`;
  });
}

export function rampLegend(title: string, breaks: readonly number[], format: (v: number) => string, testid: string, integers = false): HTMLElement {
  const ul = el('ul', { class: 'wg-legend-list' });
  binLabels(breaks, format, integers).forEach((text, i) => {
    ul.append(swatchRow(CHOROPLETH_COLOURS[Math.min(i, CHOROPLETH_COLOURS.length - 1)] ?? '#ccc', text));
  });
  return el('div', { class: 'wg-legend', testid }, el('h4', { text: title }), ul);
}
