-- Released migrations never change; add a new file instead.

-- One row a published version of a channel (not drafts): what Kolibri's
-- lookup reports for it, and which job made it, so that a retried job knows
-- its version already committed.
CREATE TABLE channel_versions (
    channel_id         text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    version            integer NOT NULL,
    job_id             bigint NOT NULL,
    version_notes      text NOT NULL DEFAULT '',
    resource_count     integer NOT NULL,
    kind_count         text NOT NULL DEFAULT '[]' CHECK (json_valid(kind_count)),
    size               bigint NOT NULL,
    included_languages text NOT NULL DEFAULT '[]' CHECK (json_valid(included_languages)),
    published_by_id    text,
    created_at         timestamp NOT NULL,
    PRIMARY KEY (channel_id, version)
);
--bun:split
CREATE UNIQUE INDEX channel_versions_job ON channel_versions (job_id);
--bun:split

-- The history of every job's state and progress, in order: a subscriber reads
-- what it has not seen yet, so it misses no step whoever runs the job.
CREATE TABLE job_events (
    id         integer PRIMARY KEY AUTOINCREMENT,
    job_id     bigint NOT NULL,
    channel_id text,
    state      text NOT NULL,
    progress   integer NOT NULL,
    error      text NOT NULL DEFAULT '',
    created_at timestamp NOT NULL
);
--bun:split
CREATE INDEX job_events_job ON job_events (job_id, id);
--bun:split
CREATE INDEX job_events_channel ON job_events (channel_id, job_id);
