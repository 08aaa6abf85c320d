-- Intelergy schema v4: set-based rollup of the parent tiers. One rollup pass (or one chunk of a
-- recompute) rebuilds the hour, day, week and month rows above all its minute ranges, of any
-- number of device channels, with one DELETE and one INSERT … SELECT per tier instead of eight
-- statements per range (docs/energy.md "How the rollups are computed").

-- Rebuilds the `parent` rows above the child-tier ranges i: device p_devs[i], channel
-- p_chs[i], minutes [p_from[i], p_to[i]), in the time zone p_tzs[i]. Each range is widened
-- to whole `unit` buckets, as intelergy_rollup_parents does, and the widened ranges of a
-- device channel that overlap or touch are merged first, so every parent bucket is rebuilt
-- once, from all its children. The children of a bucket are summed in double precision in
-- bucket_start order, always the same order, so the result does not depend on the order rows
-- are stored or found in (a sorted subquery is never flattened, and its order is the order
-- the aggregates see). This replaces the sums through numeric of schema v2, which cost
-- about two thirds of rolling up a year of minutes (a float-to-numeric conversion per field).
-- Bitmap scans are off: the planner would otherwise pick the BRIN index of energy_minute for a
-- plug's range, and read every page appended since the last VACUUM (not summarised yet).
CREATE FUNCTION intelergy_rollup_tier_many(p_child text, p_parent text, p_unit text,
                                           p_devs text[], p_chs smallint[],
                                           p_from timestamptz[], p_to timestamptz[],
                                           p_tzs text[])
RETURNS void LANGUAGE plpgsql SET work_mem = '64MB' SET enable_bitmapscan = off AS $$
DECLARE
    rd text[];
    rc smallint[];
    ra timestamptz[];
    rb timestamptz[];
    rz text[];
BEGIN
    SELECT array_agg(m.d), array_agg(m.ch), array_agg(m.a), array_agg(m.b), array_agg(m.tz)
      INTO rd, rc, ra, rb, rz
      FROM (SELECT g.d, g.ch, g.tz, min(g.a) AS a, max(g.b) AS b
              FROM (SELECT y.*, sum(y.brk) OVER (PARTITION BY y.d, y.ch ORDER BY y.a, y.b) AS grp
                      FROM (SELECT x.*,
                                   CASE WHEN x.a <= max(x.b) OVER (PARTITION BY x.d, x.ch
                                                                   ORDER BY x.a, x.b
                                                                   ROWS BETWEEN UNBOUNDED PRECEDING
                                                                   AND 1 PRECEDING)
                                        THEN 0 ELSE 1 END AS brk
                              FROM (SELECT u.d, u.ch, u.tz,
                                           date_trunc(p_unit, u.f, u.tz) AS a,
                                           intelergy_bucket_end(p_unit,
                                               date_trunc(p_unit, greatest(u.f, u.t - interval '1 microsecond'), u.tz),
                                               u.tz) AS b
                                      FROM unnest(p_devs, p_chs, p_from, p_to, p_tzs)
                                           AS u(d, ch, f, t, tz)) x) y) g
             GROUP BY g.d, g.ch, g.tz, g.grp) m;
    IF rd IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('DELETE FROM %I p USING unnest($1, $2, $3, $4) AS r(d, ch, a, b) '
                   'WHERE p.device_id = r.d AND p.channel = r.ch AND p.bucket_start >= r.a '
                   'AND p.bucket_start < r.b', p_parent) USING rd, rc, ra, rb;
    EXECUTE format($f$
        INSERT INTO %I
        SELECT o.d, o.ch, o.s, intelergy_bucket_end($6, o.s, o.tz),
               sum(o.energy_wh), sum(o.energy_integrated_wh), sum(o.counter_s), sum(o.covered_s),
               sum(o.bridged_s), sum(o.sum_w_s), sum(o.power_s), min(o.min_w), max(o.max_w),
               sum(o.samples)::integer, min(o.first_ts), max(o.last_ts), sum(o.resets)::integer
          FROM (SELECT r.d, r.ch, r.tz, date_trunc($6, k.bucket_start, r.tz) AS s, k.*
                  FROM unnest($1, $2, $3, $4, $5) AS r(d, ch, a, b, tz)
                  CROSS JOIN LATERAL (SELECT * FROM %I c WHERE c.device_id = r.d
                                         AND c.channel = r.ch AND c.bucket_start >= r.a
                                         AND c.bucket_start < r.b) k
                 ORDER BY r.d, r.ch, 4, k.bucket_start) o
         GROUP BY o.d, o.ch, o.tz, o.s$f$, p_parent, p_child) USING rd, rc, ra, rb, rz, p_unit;
END $$;

-- Rebuilds the hour, day, week and month rows above the minute ranges i (device p_devs[i],
-- channel p_chs[i], minutes [p_from[i], p_to[i])), each in its device's profile time zone:
-- hours from minutes, days from hours, weeks and months from days.
CREATE FUNCTION intelergy_rollup_parents_many(p_devs text[], p_chs smallint[],
                                              p_from timestamptz[], p_to timestamptz[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tzs text[];
BEGIN
    SELECT array_agg(intelergy_device_tz(x.d) ORDER BY x.o) INTO tzs
      FROM unnest(p_devs) WITH ORDINALITY AS x(d, o);
    PERFORM intelergy_rollup_tier_many('energy_minute', 'energy_hour', 'hour', p_devs, p_chs,
                                       p_from, p_to, tzs);
    PERFORM intelergy_rollup_tier_many('energy_hour', 'energy_day', 'day', p_devs, p_chs,
                                       p_from, p_to, tzs);
    PERFORM intelergy_rollup_tier_many('energy_day', 'energy_week', 'week', p_devs, p_chs,
                                       p_from, p_to, tzs);
    PERFORM intelergy_rollup_tier_many('energy_day', 'energy_month', 'month', p_devs, p_chs,
                                       p_from, p_to, tzs);
END $$;

-- The per-range form (schema v2, used by ad-hoc repairs and the benchmarks) with the same sums
-- as intelergy_rollup_tier_many, so that both give identical rows.
CREATE OR REPLACE FUNCTION intelergy_rollup_tier(child text, parent text, unit text, dev text,
                                                 ch smallint, p0 timestamptz, p1 timestamptz,
                                                 tz text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM intelergy_rollup_tier_many(child, parent, unit, ARRAY[dev], ARRAY[ch], ARRAY[p0],
                                       ARRAY[p1], ARRAY[tz]);
END $$;
