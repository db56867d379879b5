-- Draft edits announce nothing. Until now every statement on layouts or grids bumped the 'grids' data
-- version and sent `wangge_data_changed` 'grids' (migration 0009), drafts included. Planners save a draft
-- on every vertex drag, and each save made every server process read every published grid again from
-- PostGIS to find nothing changed (dispatch), dropped every cached grid tile (tiles), took the
-- data_versions row lock until commit (one planner's save waited for another's, city-wide) and a NOTIFY
-- (a cluster-wide lock at commit). Nothing served from the 'grids' layer shows a draft: dispatch serves
-- the published layouts, tiles the published ones and, by ?layout=, published or archived ones
-- (tile.repository.ts isTileableLayout); planners read drafts from the API, uncached.
--
-- So the 'grids' version is now bumped, and announced, by a statement only when it touches a layout
-- that is not a draft (publishing, archiving, or any change of a published or archived layout), or a
-- grid whose layout is not a draft — or is gone: deleting a draft layout deletes its grids by cascade,
-- and is announced (rarely, and harmlessly) rather than reasoned about. Readers may rely on it: while
-- the version stays, the published and archived grids and layouts are as they were (dispatch.service.ts
-- compares it before reading the grids again).
--
-- A grid written while its layout was a draft is announced only if the layout is no longer a draft at
-- the end of the statement. A publish committed in between would otherwise leave that grid unannounced,
-- so the layouts are read FOR SHARE, as the application's grid writes lock them already
-- (grid.repository.ts lockLayoutForGridWrite): a publish (FOR UPDATE) waits for the statement's
-- transaction to commit, or the statement waits for the publish and then sees the layout published.
--
-- Statement-level triggers see the statement's rows through transition tables; PostgreSQL allows those
-- on one event per trigger only, hence a trigger per event.

DROP TRIGGER layouts_bump_version ON layouts;
DROP TRIGGER grids_bump_version ON grids;

CREATE FUNCTION announce_data_change(layer_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE data_versions SET version = version + 1 WHERE layer = layer_name;
  PERFORM pg_notify('wangge_data_changed', layer_name);
END $$;

CREATE FUNCTION layouts_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  served boolean := false;
BEGIN
  -- Each branch names only the transition tables its event has (plpgsql plans a statement when it runs).
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    served := EXISTS (SELECT 1 FROM old_rows WHERE status <> 'draft');
  END IF;
  IF NOT served AND TG_OP IN ('INSERT', 'UPDATE') THEN
    served := EXISTS (SELECT 1 FROM new_rows WHERE status <> 'draft');
  END IF;
  IF served THEN
    PERFORM announce_data_change('grids');
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION grids_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  touched integer[];
  drafts integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT layout_id) INTO touched FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT layout_id) INTO touched FROM old_rows;
  ELSE
    SELECT array_agg(DISTINCT layout_id) INTO touched FROM (SELECT layout_id FROM old_rows UNION ALL SELECT layout_id FROM new_rows) r;
  END IF;
  -- No row touched: nothing changed.
  IF touched IS NULL THEN
    RETURN NULL;
  END IF;
  -- In id order, so two such statements lock their layouts in the same order.
  SELECT count(*) INTO drafts FROM (SELECT 1 FROM layouts WHERE id = ANY (touched) AND status = 'draft' ORDER BY id FOR SHARE) d;
  IF drafts < cardinality(touched) THEN
    PERFORM announce_data_change('grids');
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER layouts_inserted_announce AFTER INSERT ON layouts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION layouts_announce_change();
CREATE TRIGGER layouts_updated_announce AFTER UPDATE ON layouts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION layouts_announce_change();
CREATE TRIGGER layouts_deleted_announce AFTER DELETE ON layouts REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION layouts_announce_change();
CREATE TRIGGER grids_inserted_announce AFTER INSERT ON grids REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grids_announce_change();
CREATE TRIGGER grids_updated_announce AFTER UPDATE ON grids REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grids_announce_change();
CREATE TRIGGER grids_deleted_announce AFTER DELETE ON grids REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grids_announce_change();
-- TRUNCATE has no rows to look at (and no row triggers): it always announces.
CREATE TRIGGER layouts_truncated_announce AFTER TRUNCATE ON layouts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('grids');
CREATE TRIGGER grids_truncated_announce AFTER TRUNCATE ON grids
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('grids');
