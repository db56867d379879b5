/**
 * A grid as the editor names it everywhere (map label, balance rows, checks): the last three digits of
 * its code, or — a grid drawn or split off in this draft gets its code when published — "新#14" with
 * its id, so two new grids are told apart and the checks and the map name them alike.
 */
import { t } from '../../i18n/i18n';

export function gridLabel(code: string | null | undefined, id: number): string {
  return code ? code.slice(-3) : t('editor.uncodedGrid', { id });
}
