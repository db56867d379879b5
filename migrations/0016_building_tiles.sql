-- Buildings become a tile layer (issue #9): their changes invalidate cached tiles like the other layers.
INSERT INTO data_versions (layer) VALUES ('buildings') ON CONFLICT DO NOTHING;
CREATE TRIGGER buildings_bump_version AFTER INSERT OR UPDATE OR DELETE ON buildings
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version('buildings');
