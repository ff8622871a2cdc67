-- The triggers through which sqlstore's read cache hears of every change on
-- PostgreSQL (9.5+): each changed or deleted session, user and organization
-- is sent with NOTIFY on the channel embedsso_cache at commit, and every
-- Store LISTENs there. sqlstore.Migrate runs this file after schema.sql;
-- run it yourself if you manage migrations, or the cache stays off.
--
-- A change is one text: s:<id_hash> (a session deleted or changed),
-- t:<id_hash>:<idle_expires_at> (a session's idle expiry renewed),
-- u:<user id>, o:<org id>.

CREATE OR REPLACE FUNCTION embedsso_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'embedsso_sessions' THEN
		IF TG_OP = 'UPDATE' AND NEW.id_hash = OLD.id_hash AND NEW.user_id = OLD.user_id
			AND NEW.created_at = OLD.created_at AND NEW.expires_at = OLD.expires_at THEN
			PERFORM pg_notify('embedsso_cache', 't:' || NEW.id_hash || ':' || NEW.idle_expires_at);
		ELSE
			PERFORM pg_notify('embedsso_cache', 's:' || OLD.id_hash);
		END IF;
	ELSIF TG_TABLE_NAME = 'embedsso_users' THEN
		-- A sign-in rewrites its user, most often with the same details:
		-- only updated_at moved, and no cached session reads differently
		-- but for User.UpdatedAt. Saying nothing then spares every sign-in
		-- a NOTIFY, which PostgreSQL serialises at commit.
		IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.org_id = OLD.org_id AND NEW.email = OLD.email
			AND NEW.first_name = OLD.first_name AND NEW.last_name = OLD.last_name AND NEW.role = OLD.role
			AND NEW.attributes = OLD.attributes AND NEW.group_names = OLD.group_names THEN
			RETURN NULL;
		END IF;
		PERFORM pg_notify('embedsso_cache', 'u:' || OLD.id);
	ELSIF TG_TABLE_NAME = 'embedsso_orgs' THEN
		PERFORM pg_notify('embedsso_cache', 'o:' || OLD.id);
	ELSE
		PERFORM pg_notify('embedsso_cache', 'o:' || OLD.org_id);
	END IF;
	RETURN NULL;
END $$;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['embedsso_sessions', 'embedsso_users', 'embedsso_orgs', 'embedsso_org_records'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = t || '_cache' AND tgrelid = t::regclass) THEN
			EXECUTE 'CREATE TRIGGER ' || t || '_cache AFTER UPDATE OR DELETE ON ' || t ||
				' FOR EACH ROW EXECUTE PROCEDURE embedsso_cache_notify()';
		END IF;
	END LOOP;
END $$;
