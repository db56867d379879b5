-- Event tiles (issue #9): cached event tiles are forgotten when events change, through the channel of
-- the other layers (migrations/0009_data_versions.sql: NOTIFY wangge_data_changed, payload 'events').
--
-- Intake is the hot path: one durable commit per event, group-committed under concurrency. A
-- transaction that NOTIFYs takes a cluster-wide lock at commit and holds it through its WAL flush, and
-- bumping the data_versions row would lock that one row until commit: either would serialise every
-- concurrent intake (measured: the intake benchmark lost about half its throughput with a NOTIFY per
-- intake). So intake through the API and Open311 (source 'api' / 'open311') is announced by the
-- application after commit, coalesced (server/db/data-changes.ts), and this trigger announces the rest:
-- every UPDATE and DELETE (workflow transitions, re-routing), and inserts from other sources (imports,
-- SQL by hand). Nothing bumps data_versions for events: the row exists so that a server process whose
-- notification connection came back clears its event tiles like every other layer's.
INSERT INTO data_versions (layer) VALUES ('events') ON CONFLICT DO NOTHING;

CREATE FUNCTION notify_events_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wangge_data_changed', 'events');
  RETURN NULL;
END $$;

CREATE TRIGGER events_changed_notify AFTER UPDATE OR DELETE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION notify_events_changed();
-- Row level only to see the source; pg_notify folds repeats within a transaction into one message.
CREATE TRIGGER events_inserted_notify AFTER INSERT ON events
  FOR EACH ROW WHEN (NEW.source NOT IN ('api', 'open311')) EXECUTE FUNCTION notify_events_changed();
