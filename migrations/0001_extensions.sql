-- Extensions every later migration relies on. On an external server without superuser rights these
-- must already exist; the app checks this first and names what is missing (server/db/migrate.ts).
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
