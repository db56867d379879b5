-- A resident moved to another grid with their building (a footprint edit, a buildings import, a layout
-- publish) gets a history row of its own, 'regrid', as households already could: without it the
-- monthly report, which reads states from history, kept counting them in the grid they left.
ALTER TABLE resident_history DROP CONSTRAINT resident_history_change_check;
ALTER TABLE resident_history ADD CONSTRAINT resident_history_change_check
  CHECK (change IN ('registered', 'birth', 'move_in', 'move_out', 'death', 'household', 'registration', 'tags', 'details', 'deleted', 'regrid'));
