-- Released migrations never change; add a new file instead.

-- A chef (ricecooker) uploads a channel as a new tree beside the live one:
-- chef_root_id is the tree being uploaded; finishing makes it the main tree,
-- or the staging tree (staging_root_id) that editors review and deploy.
-- Where a channel came from, as the chef names it.
ALTER TABLE channels ADD COLUMN chef_root_id text;
--bun:split
ALTER TABLE channels ADD COLUMN staging_root_id text;
--bun:split
ALTER TABLE channels ADD COLUMN source_id text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE channels ADD COLUMN source_domain text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE channels ADD COLUMN ricecooker_version text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE content_nodes ADD COLUMN source_id text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE content_nodes ADD COLUMN source_domain text NOT NULL DEFAULT '';
--bun:split

-- Trees that were replaced (a main tree by a deployed one, an unfinished
-- upload by a new one): nothing shows them, and the collector deletes them.
CREATE TABLE garbage_trees (
    root_id    text PRIMARY KEY,
    channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at timestamp NOT NULL
);
