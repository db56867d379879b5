-- Households per building, for the buildings tile layer (the grid editor colours buildings by it, issue
-- #10). A count per building is not personal data; the households themselves never reach a tile.
--
-- Kept by statement-level triggers with transition tables: one grouped UPDATE per statement, so a COPY
-- of a million households costs one pass, and the triggers never read the households table (whose Row
-- Level Security would hide rows outside the writer's scope and make the count wrong). Only live
-- households count (deleted_at IS NULL). The buildings UPDATE bumps the buildings tile version, so
-- cached tiles follow.
ALTER TABLE buildings ADD COLUMN household_count integer NOT NULL DEFAULT 0 CHECK (household_count >= 0);

CREATE FUNCTION buildings_count_households() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE buildings b SET household_count = b.household_count + d.n
    FROM (SELECT building_id, count(*)::int AS n FROM new_rows WHERE deleted_at IS NULL GROUP BY building_id) d
    WHERE b.id = d.building_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE buildings b SET household_count = b.household_count - d.n
    FROM (SELECT building_id, count(*)::int AS n FROM old_rows WHERE deleted_at IS NULL GROUP BY building_id) d
    WHERE b.id = d.building_id;
  ELSE
    UPDATE buildings b SET household_count = b.household_count + d.n
    FROM (
      SELECT building_id, sum(n)::int AS n FROM (
        SELECT building_id, 1 AS n FROM new_rows WHERE deleted_at IS NULL
        UNION ALL
        SELECT building_id, -1 FROM old_rows WHERE deleted_at IS NULL
      ) x GROUP BY building_id HAVING sum(n) <> 0
    ) d
    WHERE b.id = d.building_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER households_count_insert AFTER INSERT ON households
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION buildings_count_households();
CREATE TRIGGER households_count_update AFTER UPDATE ON households
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION buildings_count_households();
CREATE TRIGGER households_count_delete AFTER DELETE ON households
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION buildings_count_households();

-- Existing rows: counted with every household visible (the migration runs as a system task).
SELECT set_config('wangge.scope_all', 'on', true);
UPDATE buildings b SET household_count = c.n
FROM (SELECT building_id, count(*)::int AS n FROM households WHERE deleted_at IS NULL GROUP BY building_id) c
WHERE b.id = c.building_id;
