/**
 * Tiny message lookup: zh-CN by default, English on request; the choice is kept in the URL (`lang=en`)
 * so a shared link opens in the same language. The catalogue is the shell's messages plus each view's
 * own message file (views/<id>/messages.ts), so views add texts without touching each other's files.
 */
import * as analysis from '../views/analysis/messages';
import * as audit from '../views/audit/messages';
import * as dispatch from '../views/dispatch/messages';
import * as editor from '../views/editor/messages';
import * as mygrids from '../views/mygrids/messages';
import { en } from './en';
import { zhCN } from './zh-CN';

export type Locale = 'zh-CN' | 'en';

const zhCatalog = { ...zhCN, ...editor.zhCN, ...dispatch.zhCN, ...analysis.zhCN, ...mygrids.zhCN, ...audit.zhCN };
export type MessageKey = keyof typeof zhCatalog;
const catalogs: Record<Locale, Record<MessageKey, string>> = {
  'zh-CN': zhCatalog,
  en: { ...en, ...editor.en, ...dispatch.en, ...analysis.en, ...mygrids.en, ...audit.en },
};
let current: Locale = 'zh-CN';
const listeners = new Set<() => void>();

/** The text for `key`; `{name}` placeholders are filled from `params`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = catalogs[current][key];
  return params ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m)) : text;
}

/** Whether a key built at run time (e.g. from a server code) names a message. */
export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(zhCatalog, key);
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

/**
 * The name of server data that carries a Chinese name and, optionally, an English one (event
 * categories): English in the English view when there is one, else the Chinese name.
 */
export function localName(item: { name: string; nameEn: string | null }): string {
  return current === 'en' && item.nameEn !== null ? item.nameEn : item.name;
}
