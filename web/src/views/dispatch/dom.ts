import type { Map as MapLibreMap } from 'maplibre-gl';

/** Small DOM helpers shared by the dispatch and analysis views (no UI framework: the views are small). */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: { class?: string; testid?: string; text?: string; title?: string } = {},
  ...children: Array<Node | string | null | undefined | false>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs.class) node.className = attrs.class;
  if (attrs.testid) node.dataset.testid = attrs.testid;
  if (attrs.text !== undefined) node.textContent = attrs.text;
  if (attrs.title !== undefined) node.title = attrs.title;
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

export function option(value: string, text: string, selected = false): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  o.selected = selected;
  return o;
}

/** A labelled form field: `<label><span>text</span>control</label>`. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return el('label', { class: 'wg-field' }, el('span', { text: label }), control);
}

/** Date and time in the city's zone, in the current UI language. */
export function formatTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

/** An idempotency key; crypto.randomUUID needs a secure context, which a plain-http LAN deployment is not. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** Save text or a data URL as a file through a temporary link. */
export function download(filename: string, href: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * Run `fn` once the map's style accepts sources and layers. `isStyleLoaded()` is also false while tiles
 * load, after 'load' has fired, so the first attempt just tries; only "style is not done loading" waits.
 * Returns a cancel function for unmounts that come first.
 */
export function whenStyleReady(map: { once(type: 'styledata', fn: () => void): unknown; off(type: 'styledata', fn: () => void): unknown }, fn: () => void): () => void {
  let cancelled = false;
  const attempt = (): void => {
    if (cancelled) return;
    try {
      fn();
    } catch (err) {
      if (!(err instanceof Error) || !/not done loading/i.test(err.message)) throw err;
      map.once('styledata', attempt);
    }
  };
  attempt();
  return () => {
    cancelled = true;
    map.off('styledata', attempt);
  };
}

/**
 * Keep a view's layers above everything else, in the given order: the shell may add its base layers
 * after the view mounted (the map's 'load' comes later than a restored session). Returns the detach.
 */
export function keepOnTop(map: MapLibreMap, ids: readonly string[]): () => void {
  const check = (): void => {
    const order = map.getLayersOrder();
    const present = ids.filter((id) => order.includes(id));
    const top = order.slice(order.length - present.length);
    if (present.every((id, i) => top[i] === id)) return;
    for (const id of present) map.moveLayer(id);
  };
  map.on('styledata', check);
  return () => map.off('styledata', check);
}
