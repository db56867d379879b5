/**
 * Tiny message lookup: zh-CN by default, English on request; the choice is kept in the URL (`lang=en`)
 * so a shared link opens in the same language.
 */
import { en } from './en';
import { zhCN, type MessageKey } from './zh-CN';

export type Locale = 'zh-CN' | 'en';

const catalogs: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };
let current: Locale = 'zh-CN';
const listeners = new Set<() => void>();

export function t(key: MessageKey): string {
  return catalogs[current][key];
}

export function getLocale(): Locale {
  return current;
}

export function setLocale(locale: Locale): void {
  if (locale === current) return;
  current = locale;
  document.documentElement.lang = locale;
  for (const fn of listeners) fn();
}

/** Re-render hook; returns the unsubscribe function. */
export function onLocaleChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
