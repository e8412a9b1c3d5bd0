-- Released migrations never change; add a new file instead.

-- One row a published version of a channel (not drafts): what Kolibri's
-- lookup reports for it, and which job made it, so that a retried job knows
-- its version already committed.
CREATE TABLE channel_versions (
    channel_id         uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    version            integer NOT NULL,
    job_id             bigint NOT NULL,
    version_notes      text NOT NULL DEFAULT '',
    resource_count     integer NOT NULL,
    kind_count         jsonb NOT NULL DEFAULT '[]',
    size               bigint NOT NULL,
    included_languages jsonb NOT NULL DEFAULT '[]',
    published_by_id    uuid,
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (channel_id, version)
);
CREATE UNIQUE INDEX channel_versions_job ON channel_versions (job_id);

-- The history of every job's state and progress, in order: a subscriber reads
-- what it has not seen yet, so it misses no step whoever runs the job.
CREATE TABLE job_events (
    id         bigserial PRIMARY KEY,
    job_id     bigint NOT NULL,
    channel_id uuid,
    state      text NOT NULL,
    progress   integer NOT NULL,
    error      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);
CREATE INDEX job_events_channel ON job_events (channel_id, job_id);
