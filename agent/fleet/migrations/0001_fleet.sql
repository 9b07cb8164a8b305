-- kenshin fleet schema, version 1: sites and their sensor keys, the inbox that
-- sensors write to, the normalised runs filed from verified bundles, and the
-- quarantine of bundles that failed verification.
--
-- Sensors log in as their site's role (a member of kenshin_sensor, named by the CN
-- of their client certificate). Row-level security lets a site role insert inbox
-- rows for its own site only and read only its own site's rows and configuration.

DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kenshin_sensor') THEN
        CREATE ROLE kenshin_sensor NOLOGIN;
    END IF;
END $$;

-- A sensor checks the schema version before it pushes.
GRANT SELECT ON fleet.migrations TO kenshin_sensor;

CREATE TABLE fleet.organisations (
    name        text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fleet.sites (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,47}$'),
    role          name NOT NULL UNIQUE,
    organisation  text REFERENCES fleet.organisations (name),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fleet.sensor_keys (
    site         text NOT NULL REFERENCES fleet.sites (name),
    fingerprint  text NOT NULL CHECK (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
    added_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    PRIMARY KEY (site, fingerprint)
);

-- The site of the role that is logged in (NULL for the administrator).
CREATE FUNCTION fleet.current_site() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT name FROM fleet.sites WHERE role = session_user $$;

CREATE TABLE fleet.inbox (
    id               bigserial PRIMARY KEY,
    site             text NOT NULL DEFAULT fleet.current_site() REFERENCES fleet.sites (name),
    scan_id          text NOT NULL,
    key_fingerprint  text NOT NULL,
    paths            text[] NOT NULL,
    contents         bytea[] NOT NULL,
    pushed_by        name NOT NULL DEFAULT session_user,
    received_at      timestamptz NOT NULL DEFAULT now(),
    state            text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'filed', 'quarantined')),
    handled_at       timestamptz,
    CHECK (cardinality(paths) = cardinality(contents)),
    UNIQUE (site, scan_id, key_fingerprint)
);
CREATE INDEX inbox_new ON fleet.inbox (id) WHERE state = 'new';

CREATE FUNCTION fleet.inbox_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kenshin_fleet_inbox', NEW.id::text);
    RETURN NEW;
END $$;
CREATE TRIGGER inbox_notify AFTER INSERT ON fleet.inbox
    FOR EACH ROW EXECUTE FUNCTION fleet.inbox_notify();

CREATE TABLE fleet.runs (
    id                 bigserial PRIMARY KEY,
    site               text NOT NULL REFERENCES fleet.sites (name),
    scan_id            text NOT NULL,
    key_fingerprint    text NOT NULL,
    inbox_id           bigint REFERENCES fleet.inbox (id),
    started_at         timestamptz,
    finished_at        timestamptz NOT NULL,
    complete           boolean NOT NULL,
    tool_version       text,
    rules_version      text,
    hosts_up           integer NOT NULL,
    filed_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site, scan_id)
);
-- The rollup asks for each site's newest runs: one index walk per site.
CREATE INDEX runs_site_finished ON fleet.runs (site, finished_at DESC) INCLUDE (complete);

CREATE TABLE fleet.hosts (
    run_id   bigint NOT NULL REFERENCES fleet.runs (id) ON DELETE CASCADE,
    address  text NOT NULL,
    kind     text NOT NULL,
    mac      text,
    PRIMARY KEY (run_id, address)
);

CREATE TABLE fleet.services (
    run_id    bigint NOT NULL REFERENCES fleet.runs (id) ON DELETE CASCADE,
    address   text NOT NULL,
    port      integer NOT NULL,
    protocol  text NOT NULL,
    service   text,
    product   text,
    version   text,
    PRIMARY KEY (run_id, address, port, protocol)
);

CREATE TABLE fleet.findings (
    run_id        bigint NOT NULL REFERENCES fleet.runs (id) ON DELETE CASCADE,
    finding_id    text NOT NULL,
    check_id      text NOT NULL,
    group_id      text NOT NULL,
    severity      text NOT NULL,
    host          text,
    port          integer,
    title_ja      text,
    title_en      text,
    requirements  text[] NOT NULL DEFAULT '{}',
    disposition   text NOT NULL DEFAULT 'open',
    exception     text,
    expires       text,
    PRIMARY KEY (run_id, finding_id)
);

-- A finding group as the report states it (or one per check when it has none).
CREATE TABLE fleet.finding_groups (
    run_id    bigint NOT NULL REFERENCES fleet.runs (id) ON DELETE CASCADE,
    group_id  text NOT NULL,
    check_id  text NOT NULL,
    cause_ja  text,
    cause_en  text,
    severity  text NOT NULL,
    count     integer NOT NULL,
    PRIMARY KEY (run_id, group_id)
);

-- Open and accepted findings per severity per run, filed with the run so the trend
-- reads a few rows per scan rather than every finding.
CREATE TABLE fleet.run_counts (
    run_id    bigint NOT NULL REFERENCES fleet.runs (id) ON DELETE CASCADE,
    severity  text NOT NULL,
    open      integer NOT NULL,
    accepted  integer NOT NULL,
    PRIMARY KEY (run_id, severity)
);

CREATE TABLE fleet.checklist (
    run_id     bigint NOT NULL REFERENCES fleet.runs (id) ON DELETE CASCADE,
    framework  text NOT NULL,
    item_id    text NOT NULL,
    status     text NOT NULL,
    findings   integer NOT NULL,
    PRIMARY KEY (run_id, framework, item_id)
);

CREATE TABLE fleet.quarantine (
    id               bigserial PRIMARY KEY,
    inbox_id         bigint NOT NULL UNIQUE REFERENCES fleet.inbox (id),
    site             text NOT NULL,
    scan_id          text NOT NULL,
    key_fingerprint  text NOT NULL,
    file             text,
    reason           text NOT NULL,    -- in English
    reason_ja        text NOT NULL,    -- the same in Japanese
    at               timestamptz NOT NULL DEFAULT now()
);

-- What a site's role may do: read its own configuration, insert and read its own
-- inbox rows. Nothing else of the schema is granted.
ALTER TABLE fleet.sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE fleet.sensor_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE fleet.inbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_site ON fleet.sites FOR SELECT TO kenshin_sensor
    USING (role = session_user);
CREATE POLICY own_keys ON fleet.sensor_keys FOR SELECT TO kenshin_sensor
    USING (site = fleet.current_site());
CREATE POLICY insert_own ON fleet.inbox FOR INSERT TO kenshin_sensor
    WITH CHECK (site = fleet.current_site() AND pushed_by = session_user AND state = 'new');
CREATE POLICY read_own ON fleet.inbox FOR SELECT TO kenshin_sensor
    USING (site = fleet.current_site());

GRANT USAGE ON SCHEMA fleet TO kenshin_sensor;
GRANT SELECT ON fleet.sites, fleet.sensor_keys TO kenshin_sensor;
GRANT SELECT (id, site, scan_id, key_fingerprint, received_at, state),
      INSERT (site, scan_id, key_fingerprint, paths, contents)
    ON fleet.inbox TO kenshin_sensor;
GRANT USAGE ON SEQUENCE fleet.inbox_id_seq TO kenshin_sensor;
GRANT EXECUTE ON FUNCTION fleet.current_site() TO kenshin_sensor;
REVOKE ALL ON FUNCTION fleet.current_site() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fleet.current_site() TO kenshin_sensor;
