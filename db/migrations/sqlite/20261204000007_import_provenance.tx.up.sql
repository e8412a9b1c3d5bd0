-- Released migrations never change; add a new file instead.

-- Channels imported from a published content database (importChannel):
-- one row an import, where it came from (the source's URL or directory,
-- its channel id and version), what its tree's nodes were (node_id →
-- digest, so that a later import of a newer version can say what changed
-- upstream), and what that later import found.
CREATE TABLE channel_imports (
    job_id            bigint PRIMARY KEY,
    channel_id        text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id           text,
    source            text NOT NULL,
    source_channel_id text NOT NULL,
    source_version    integer,
    staged            boolean NOT NULL,
    nodes             text CHECK (nodes IS NULL OR json_valid(nodes)),
    changes           text CHECK (changes IS NULL OR json_valid(changes)),
    warnings          text NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
    created_at        timestamp NOT NULL,
    finished_at       timestamp
);
--bun:split
CREATE INDEX channel_imports_channel ON channel_imports (channel_id, source_channel_id, finished_at);
