import type { DispatchResult } from '@contracts/dispatch';
import { getLocale, isMessageKey, t } from '../../i18n/i18n';
import { formatTime } from './dom';

type FallbackEntry = DispatchResult['fallback'][number];

/**
 * Why a step of the fallback chain was used, found nobody or was skipped, in the reader's language.
 * The step and outcome are codes, and everything the server's English reason names (grid, community,
 * street, instant) is in the answer, so the sentence is composed here; an unknown pair shows the
 * server's words.
 */
export function fallbackReason(f: FallbackEntry, r: Pick<DispatchResult, 'status' | 'at' | 'grid' | 'community' | 'street'>): string {
  if (r.status === 'outside') return t('dispatch.reason.outside');
  const key = `dispatch.reason.${f.step}.${f.outcome}`;
  if (!isMessageKey(key)) return f.reason;
  return t(key, {
    grid: r.grid?.code ?? '',
    community: r.community?.name ?? '',
    street: r.street?.name ?? '',
    time: formatTime(r.at, getLocale()),
  });
}
