-- Intelergy schema v1: hierarchy, devices, energy books, readings (partitioned by month).
-- Removal policy: users, profiles and rooms can only be removed when empty (no children), so
-- history is never dropped by accident; devices are soft-removed (removed_at) and keep their
-- readings and energy book, which resume if the same plug (same MAC) is added again.

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE profiles (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
    name           text NOT NULL,
    timezone       text NOT NULL,
    tariff_per_kwh double precision,
    currency       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

CREATE TABLE rooms (
    id          bigserial PRIMARY KEY,
    profile_id  bigint NOT NULL REFERENCES profiles(id) ON DELETE RESTRICT,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (profile_id, name)
);

CREATE TABLE devices (
    id              text PRIMARY KEY,               -- "shelly-<mac lower>", never changes
    room_id         bigint NOT NULL REFERENCES rooms(id) ON DELETE RESTRICT,
    name            text NOT NULL,
    mac             text NOT NULL UNIQUE,
    generation      smallint NOT NULL CHECK (generation BETWEEN 1 AND 9),
    model           text NOT NULL,
    firmware        text NOT NULL DEFAULT '',
    shelly_id       text NOT NULL DEFAULT '',
    transport       text NOT NULL CHECK (transport IN ('http', 'mqtt')),
    url             text NOT NULL DEFAULT '',
    topic_prefix    text NOT NULL DEFAULT '',
    username        text NOT NULL DEFAULT '',
    password        text NOT NULL DEFAULT '',
    poll_interval_s integer NOT NULL DEFAULT 10 CHECK (poll_interval_s BETWEEN 1 AND 86400),
    enabled         boolean NOT NULL DEFAULT true,
    channels        smallint NOT NULL DEFAULT 1 CHECK (channels BETWEEN 1 AND 16),
    has_relay       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz
);
CREATE UNIQUE INDEX devices_name_in_room ON devices (room_id, name) WHERE removed_at IS NULL;

-- The per-channel energy book: lifetime_wh never decreases (see docs/data-model.md).
CREATE TABLE energy_books (
    device_id       text NOT NULL REFERENCES devices(id) ON DELETE RESTRICT,
    channel         smallint NOT NULL,
    last_raw_wh     double precision,
    offset_wh       double precision NOT NULL DEFAULT 0,
    lifetime_wh     double precision NOT NULL DEFAULT 0,
    last_ts         timestamptz,
    pending_rejects integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, channel)
);

CREATE TABLE readings (
    device_id     text NOT NULL,
    channel       smallint NOT NULL DEFAULT 0,
    ts            timestamptz NOT NULL,
    power_w       double precision,
    voltage_v     double precision,
    current_a     double precision,
    temperature_c double precision,
    relay         boolean,
    counter_raw   double precision,
    counter_unit  text,
    energy_wh     double precision,
    PRIMARY KEY (device_id, channel, ts)
) PARTITION BY RANGE (ts);

-- Creates the monthly partitions of readings covering [from_ts, from_ts + months_ahead months].
CREATE FUNCTION intelergy_ensure_partitions(from_ts timestamptz, months_ahead integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m date := date_trunc('month', from_ts AT TIME ZONE 'UTC')::date;
    created integer := 0;
    part text;
BEGIN
    FOR i IN 0..months_ahead LOOP
        part := format('readings_%s', to_char(m, 'YYYYMM'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                           part, (m::timestamp AT TIME ZONE 'UTC'),
                           ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN created;
END $$;
