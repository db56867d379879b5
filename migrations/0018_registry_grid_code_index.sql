-- Registry (issue #5): the grid worker's list filters residents by grid CODE (`?grid=`, and what RLS
-- compares), which survives re-division, while 0006 indexed only grid_id. Keyset-paged by id.
CREATE INDEX residents_grid_code_idx ON residents (grid_code, id) WHERE deleted_at IS NULL;
