-- Intelergy schema v2: exact energy rollups per device channel (minute, hour, day, week,
-- month), dirty marks written with the readings, and the SQL that builds the local-time
-- parents. Semantics and formulas: docs/data-model.md "Energy rollups".

-- One row per bucket that has data; a bucket without data has no row (unknown, not zero).
-- All tiers share this shape. Additive columns (energy, seconds, samples, resets) sum exactly
-- into parents; means are derived (mean_w = sum_w_s / power_s), never averaged.
CREATE TABLE energy_minute (
    device_id            text NOT NULL,
    channel              smallint NOT NULL,
    bucket_start         timestamptz NOT NULL,
    bucket_end           timestamptz NOT NULL,
    energy_wh            double precision,   -- counter where known, integrated fill elsewhere
    energy_integrated_wh double precision,   -- sample-and-hold power only (cross-check)
    counter_s            double precision NOT NULL,  -- seconds whose energy came from the counter
    covered_s            double precision NOT NULL,  -- seconds within the hold limit of a sample
    bridged_s            double precision NOT NULL,  -- seconds known only via an interpolated counter
    sum_w_s              double precision NOT NULL,  -- integral of held power (W*s)
    power_s              double precision NOT NULL,  -- seconds with held power
    min_w                double precision,
    max_w                double precision,
    samples              integer NOT NULL,
    first_ts             timestamptz,
    last_ts              timestamptz,
    resets               integer NOT NULL,
    PRIMARY KEY (device_id, channel, bucket_start)
);
CREATE TABLE energy_hour (LIKE energy_minute INCLUDING ALL);
CREATE TABLE energy_day (LIKE energy_minute INCLUDING ALL);
CREATE TABLE energy_week (LIKE energy_minute INCLUDING ALL);
CREATE TABLE energy_month (LIKE energy_minute INCLUDING ALL);

-- Ranges of readings whose minutes must be recomputed; written in the same transaction as
-- the readings, consumed by the rollup worker in the same transaction as the new rows.
CREATE TABLE rollup_dirty (
    id        bigserial PRIMARY KEY,
    device_id text NOT NULL,
    channel   smallint NOT NULL,
    from_ts   timestamptz NOT NULL,
    to_ts     timestamptz NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollup_dirty_from ON rollup_dirty (from_ts);

-- The profile time zone of a device (UTC for readings of unknown devices).
CREATE FUNCTION intelergy_device_tz(dev text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT p.timezone FROM devices d JOIN rooms r ON r.id = d.room_id
                       JOIN profiles p ON p.id = r.profile_id WHERE d.id = dev), 'UTC')
$$;

-- Adds a calendar interval in local time: 1 day after local midnight is the next local
-- midnight (23 or 25 hours at DST changes).
CREATE FUNCTION intelergy_local_add(ts timestamptz, step interval, tz text)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT ((ts AT TIME ZONE tz) + step) AT TIME ZONE tz
$$;

-- Start of the bucket of `unit` (minute|hour|day|week|month) containing ts, local to tz.
-- Weeks are ISO weeks (Monday 00:00 local).
CREATE FUNCTION intelergy_bucket_start(unit text, ts timestamptz, tz text)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc(unit, ts, tz)
$$;

CREATE FUNCTION intelergy_bucket_end(unit text, start_ts timestamptz, tz text)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE unit
        WHEN 'minute' THEN start_ts + interval '1 minute'
        WHEN 'hour'   THEN start_ts + interval '1 hour'
        WHEN 'day'    THEN intelergy_local_add(start_ts, interval '1 day', tz)
        WHEN 'week'   THEN intelergy_local_add(start_ts, interval '7 days', tz)
        WHEN 'month'  THEN intelergy_local_add(start_ts, interval '1 month', tz)
    END
$$;

-- A local label: minute/hour "2026-10-25T02:00+01:00" (the offset tells the two 02:00 hours
-- of an autumn DST night apart), day "2026-10-25", week "2026-W53", month "2026-10".
CREATE FUNCTION intelergy_bucket_label(unit text, start_ts timestamptz, tz text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE unit
        WHEN 'day'   THEN to_char(start_ts AT TIME ZONE tz, 'YYYY-MM-DD')
        WHEN 'week'  THEN to_char(start_ts AT TIME ZONE tz, 'IYYY-"W"IW')
        WHEN 'month' THEN to_char(start_ts AT TIME ZONE tz, 'YYYY-MM')
        ELSE to_char(start_ts AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI') || (
            SELECT CASE WHEN off < 0 THEN '-' ELSE '+' END
                   || lpad((abs(off) / 3600)::text, 2, '0') || ':'
                   || lpad((abs(off) % 3600 / 60)::text, 2, '0')
              FROM (SELECT extract(epoch FROM (start_ts AT TIME ZONE tz)
                                              - (start_ts AT TIME ZONE 'UTC'))::integer AS off) o)
    END
$$;

-- Rebuilds the `parent` tier rows of one device channel whose buckets start in [p0, p1)
-- from the `child` tier (delete + insert: idempotent, and a bucket whose children vanished
-- vanishes too). Sums go through numeric so the result does not depend on row order.
CREATE FUNCTION intelergy_rollup_tier(child text, parent text, unit text, dev text,
                                      ch smallint, p0 timestamptz, p1 timestamptz, tz text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I WHERE device_id = $1 AND channel = $2 AND bucket_start >= $3 '
                   'AND bucket_start < $4', parent) USING dev, ch, p0, p1;
    EXECUTE format($f$
        INSERT INTO %I
        SELECT $1, $2, b.s, intelergy_bucket_end($5, b.s, $6),
               sum(energy_wh::numeric)::float8, sum(energy_integrated_wh::numeric)::float8,
               sum(counter_s::numeric)::float8, sum(covered_s::numeric)::float8,
               sum(bridged_s::numeric)::float8, sum(sum_w_s::numeric)::float8,
               sum(power_s::numeric)::float8, min(min_w), max(max_w), sum(samples)::integer,
               min(first_ts), max(last_ts), sum(resets)::integer
          FROM %I c CROSS JOIN LATERAL (SELECT date_trunc($5, c.bucket_start, $6) AS s) b
         WHERE c.device_id = $1 AND c.channel = $2 AND c.bucket_start >= $3
           AND c.bucket_start < $4
         GROUP BY b.s$f$, parent, child) USING dev, ch, p0, p1, unit, tz;
END $$;

-- Rebuilds hour, day, week and month rows of one device channel covering the minutes
-- [from_ts, to_ts), in the device's profile time zone. Hours come from minutes, days from
-- hours, weeks and months from days.
CREATE FUNCTION intelergy_rollup_parents(dev text, ch smallint, from_ts timestamptz,
                                         to_ts timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz text := intelergy_device_tz(dev);
    last_ts timestamptz := greatest(from_ts, to_ts - interval '1 microsecond');
    h0 timestamptz := date_trunc('hour', from_ts, tz);
    h1 timestamptz := date_trunc('hour', last_ts, tz) + interval '1 hour';
    d0 timestamptz := date_trunc('day', from_ts, tz);
    d1 timestamptz := intelergy_bucket_end('day', date_trunc('day', last_ts, tz), tz);
    w0 timestamptz := date_trunc('week', from_ts, tz);
    w1 timestamptz := intelergy_bucket_end('week', date_trunc('week', last_ts, tz), tz);
    m0 timestamptz := date_trunc('month', from_ts, tz);
    m1 timestamptz := intelergy_bucket_end('month', date_trunc('month', last_ts, tz), tz);
BEGIN
    PERFORM intelergy_rollup_tier('energy_minute', 'energy_hour', 'hour', dev, ch, h0, h1, tz);
    PERFORM intelergy_rollup_tier('energy_hour', 'energy_day', 'day', dev, ch, d0, d1, tz);
    PERFORM intelergy_rollup_tier('energy_day', 'energy_week', 'week', dev, ch, w0, w1, tz);
    PERFORM intelergy_rollup_tier('energy_day', 'energy_month', 'month', dev, ch, m0, m1, tz);
END $$;
