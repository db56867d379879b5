-- A version number per map layer, bumped by every statement that changes the layer's rows, announced
-- with NOTIFY so every server process drops its cached tiles of that layer at once (issue #9: stale
-- tiles after an edit are the classic complaint about PostGIS tile servers).
CREATE TABLE data_versions (
  layer   text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 1
);
INSERT INTO data_versions (layer) VALUES ('divisions'), ('grids'), ('roads');

CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  layer_name text := TG_ARGV[0];
BEGIN
  UPDATE data_versions SET version = version + 1 WHERE layer = layer_name;
  PERFORM pg_notify('wangge_data_changed', layer_name);
  RETURN NULL;
END $$;

CREATE TRIGGER divisions_bump_version AFTER INSERT OR UPDATE OR DELETE ON divisions
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('divisions');
-- A publish changes which grids are live, so layouts count as grid data too.
CREATE TRIGGER layouts_bump_version AFTER INSERT OR UPDATE OR DELETE ON layouts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('grids');
CREATE TRIGGER grids_bump_version AFTER INSERT OR UPDATE OR DELETE ON grids
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('grids');
CREATE TRIGGER roads_bump_version AFTER INSERT OR UPDATE OR DELETE ON roads
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('roads');
