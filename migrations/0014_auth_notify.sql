-- Principal cache invalidation (issue #6, server/auth/principal-cache.ts): every server process caches
-- authenticated principals per token hash for a few seconds, so a bearer token is not looked up on every
-- request. Anything that changes what a token may do announces the affected user on
-- `wangge_auth_changed` (payload: the user id), and every process forgets that user's cached principals
-- at once: sign-out, refresh rotation and reuse revocation, password change and reset, expiry changes,
-- API token revocation, and a user's roles, scope, name or disabled flag. NOTIFY is delivered on
-- commit, so a rolled-back revocation announces nothing.
--
-- Row-level with WHEN clauses: bookkeeping updates (api_tokens.last_used_at on use, users.failed_sign_ins
-- and locked_until on sign-in attempts) must not flush anyone's cache. pg_notify folds identical
-- payloads within a transaction, so revoking a whole family sends one message per user.

CREATE FUNCTION auth_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Separate branches: users rows have no user_id, and plpgsql does not short-circuit field lookups.
  IF TG_TABLE_NAME = 'users' THEN
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('wangge_auth_changed', OLD.id::text);
    ELSE
      PERFORM pg_notify('wangge_auth_changed', NEW.id::text);
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('wangge_auth_changed', OLD.user_id::text);
  ELSE
    PERFORM pg_notify('wangge_auth_changed', NEW.user_id::text);
    -- A token moved to another user (never done by the API, but SQL can): the old owner's cache too.
    IF OLD.user_id IS DISTINCT FROM NEW.user_id THEN
      PERFORM pg_notify('wangge_auth_changed', OLD.user_id::text);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER sessions_auth_changed AFTER UPDATE ON sessions
  FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
     OR OLD.rotated_at IS DISTINCT FROM NEW.rotated_at
     OR OLD.access_expires_at IS DISTINCT FROM NEW.access_expires_at
     OR OLD.access_hash IS DISTINCT FROM NEW.access_hash
     OR OLD.user_id IS DISTINCT FROM NEW.user_id)
  EXECUTE FUNCTION auth_notify_changed();
CREATE TRIGGER sessions_auth_deleted AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION auth_notify_changed();

CREATE TRIGGER api_tokens_auth_changed AFTER UPDATE ON api_tokens
  FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
     OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
     OR OLD.roles IS DISTINCT FROM NEW.roles
     OR OLD.scope_all IS DISTINCT FROM NEW.scope_all
     OR OLD.scope_prefixes IS DISTINCT FROM NEW.scope_prefixes
     OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
     OR OLD.user_id IS DISTINCT FROM NEW.user_id)
  EXECUTE FUNCTION auth_notify_changed();
CREATE TRIGGER api_tokens_auth_deleted AFTER DELETE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION auth_notify_changed();

CREATE TRIGGER users_auth_changed AFTER UPDATE ON users
  FOR EACH ROW
  WHEN (OLD.roles IS DISTINCT FROM NEW.roles
     OR OLD.scope_all IS DISTINCT FROM NEW.scope_all
     OR OLD.scope_prefixes IS DISTINCT FROM NEW.scope_prefixes
     OR OLD.disabled IS DISTINCT FROM NEW.disabled
     OR OLD.must_change_password IS DISTINCT FROM NEW.must_change_password
     OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
     OR OLD.username IS DISTINCT FROM NEW.username)
  EXECUTE FUNCTION auth_notify_changed();
CREATE TRIGGER users_auth_deleted AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION auth_notify_changed();

-- TRUNCATE (tests, resets) removes every token at once: a statement-level announcement of '*'
-- flushes every cache (see principal-cache.ts).
CREATE FUNCTION auth_notify_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wangge_auth_changed', '*');
  RETURN NULL;
END $$;
CREATE TRIGGER sessions_auth_truncated AFTER TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION auth_notify_truncated();
CREATE TRIGGER api_tokens_auth_truncated AFTER TRUNCATE ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION auth_notify_truncated();
CREATE TRIGGER users_auth_truncated AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION auth_notify_truncated();
