-- Intelergy schema v3: retention per tier ([retention] readings_days, minutes_days).
-- Readings go a whole monthly partition at a time, minute rollups row by row; hours, days,
-- weeks, months and energy books are kept. Once a tier of a device channel has been purged
-- before a horizon, the rollups built from it are final: the rollup worker never rewrites that
-- channel's minutes before its readings horizon, nor its hours before its minute horizon
-- (docs/data-model.md "Retention").
CREATE TABLE retention_horizon (
    device_id  text NOT NULL,
    channel    smallint NOT NULL,
    tier       text NOT NULL CHECK (tier IN ('readings', 'minute')),
    horizon    timestamptz NOT NULL,  -- this tier of the channel has been purged before it
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, channel, tier)
);

-- Minutes are written roughly in time order, so a BRIN index finds the old ones cheaply.
CREATE INDEX energy_minute_bucket_start_brin ON energy_minute USING brin (bucket_start);
