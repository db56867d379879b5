-- Row Level Security plumbing (issue #4). The application connects as the database owner, which
-- bypasses RLS; requests that read personal data switch to the unprivileged role `wangge_app` for the
-- transaction (SET LOCAL ROLE) after setting their scope, so policies apply even if the application
-- forgets a filter. See server/db/scoped.ts.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wangge_app') THEN
    CREATE ROLE wangge_app NOLOGIN;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'cannot create role wangge_app (no CREATEROLE): ask an administrator to run CREATE ROLE wangge_app NOLOGIN';
END $$;

-- The migrating role must be able to SET ROLE to it.
DO $$
BEGIN
  EXECUTE format('GRANT wangge_app TO %I', current_user);
EXCEPTION WHEN others THEN
  RAISE NOTICE 'could not grant wangge_app to %: %', current_user, SQLERRM;
END $$;

GRANT USAGE ON SCHEMA public TO wangge_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO wangge_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO wangge_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO wangge_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO wangge_app;

-- The scope of the current transaction, set with set_config(..., true) by server/db/scoped.ts:
--   wangge.scope_all       'on' when the principal sees everything
--   wangge.scope_prefixes  comma-separated division/grid codes; a row is in scope when its code starts
--                          with one of them
CREATE FUNCTION wangge_in_scope(code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('wangge.scope_all', true), '') = 'on'
      OR (code IS NOT NULL AND EXISTS (
            SELECT 1 FROM unnest(string_to_array(coalesce(current_setting('wangge.scope_prefixes', true), ''), ',')) AS p
            WHERE p <> '' AND starts_with(code, p)))
$$;
GRANT EXECUTE ON FUNCTION wangge_in_scope(text) TO wangge_app;
