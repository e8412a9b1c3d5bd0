-- Released migrations never change; add a new file instead.
CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL DEFAULT '',
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    is_admin      boolean NOT NULL DEFAULT false,
    disk_space    bigint NOT NULL DEFAULT 524288000,
    created_at    timestamp NOT NULL
);
--bun:split
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
--bun:split

CREATE TABLE api_tokens (
    id           text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    token_hash   text NOT NULL UNIQUE,
    created_at   timestamp NOT NULL,
    last_used_at timestamp
);
--bun:split
CREATE INDEX api_tokens_user ON api_tokens (user_id);
--bun:split

CREATE TABLE channels (
    id                   text PRIMARY KEY,
    name                 text NOT NULL,
    description          text NOT NULL DEFAULT '',
    tagline              text NOT NULL DEFAULT '',
    language             text NOT NULL DEFAULT '',
    thumbnail            text NOT NULL DEFAULT '',
    thumbnail_encoding   text NOT NULL DEFAULT '{}' CHECK (json_valid(thumbnail_encoding)),
    public               boolean NOT NULL DEFAULT false,
    deleted              boolean NOT NULL DEFAULT false,
    version              integer NOT NULL DEFAULT 0,
    last_published       timestamp,
    published_size       bigint NOT NULL DEFAULT 0,
    total_resource_count integer NOT NULL DEFAULT 0,
    published_kind_count text NOT NULL DEFAULT '[]' CHECK (json_valid(published_kind_count)),
    included_languages   text NOT NULL DEFAULT '[]' CHECK (json_valid(included_languages)),
    content_defaults     text NOT NULL DEFAULT '{}' CHECK (json_valid(content_defaults)),
    root_id              text NOT NULL,
    trash_root_id        text NOT NULL,
    created_at           timestamp NOT NULL,
    modified_at          timestamp NOT NULL
);
--bun:split
CREATE INDEX channels_created ON channels (created_at DESC, id DESC);
--bun:split
CREATE INDEX channels_public ON channels (public, deleted);
--bun:split

CREATE TABLE channel_members (
    channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('editor', 'viewer')),
    PRIMARY KEY (channel_id, user_id)
);
--bun:split
CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);
--bun:split

-- Secret tokens by which Kolibri looks a channel up (proquint, made on first publish).
CREATE TABLE channel_tokens (
    token      text PRIMARY KEY,
    channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    is_primary boolean NOT NULL DEFAULT false
);
--bun:split
CREATE INDEX channel_tokens_channel ON channel_tokens (channel_id);
--bun:split

-- The content tree. root_id names the tree (a channel's main or trash root);
-- sort_order is a float between neighbours, so inserts touch one row.
--
-- The tree's tables have no foreign keys: studio's writes keep them
-- consistent (a node's parent and channel come from a locked, checked
-- parent; a permanent delete removes a subtree's rows from every table), and
-- checking keys row by row made bulk inserts and copies several times
-- slower, pathologically so on freshly loaded tables.
CREATE TABLE content_nodes (
    id                      text PRIMARY KEY,
    channel_id              text NOT NULL,
    root_id                 text NOT NULL,
    parent_id               text,
    sort_order              real NOT NULL,
    node_id                 text NOT NULL,
    content_id              text NOT NULL,
    kind                    text NOT NULL,
    title                   text NOT NULL DEFAULT '',
    description             text NOT NULL DEFAULT '',
    author                  text NOT NULL DEFAULT '',
    aggregator              text NOT NULL DEFAULT '',
    provider                text NOT NULL DEFAULT '',
    copyright_holder        text NOT NULL DEFAULT '',
    license                 text NOT NULL DEFAULT '',
    license_description     text NOT NULL DEFAULT '',
    language                text NOT NULL DEFAULT '',
    role_visibility         text NOT NULL DEFAULT 'learner',
    extra_fields            text NOT NULL DEFAULT '{}' CHECK (json_valid(extra_fields)),
    thumbnail_encoding      text NOT NULL DEFAULT '{}' CHECK (json_valid(thumbnail_encoding)),
    grade_levels            text NOT NULL DEFAULT '{}' CHECK (json_valid(grade_levels)),
    resource_types          text NOT NULL DEFAULT '{}' CHECK (json_valid(resource_types)),
    learning_activities     text NOT NULL DEFAULT '{}' CHECK (json_valid(learning_activities)),
    accessibility_labels    text NOT NULL DEFAULT '{}' CHECK (json_valid(accessibility_labels)),
    categories              text NOT NULL DEFAULT '{}' CHECK (json_valid(categories)),
    learner_needs           text NOT NULL DEFAULT '{}' CHECK (json_valid(learner_needs)),
    suggested_duration      integer,
    complete                boolean NOT NULL DEFAULT false,
    changed                 boolean NOT NULL DEFAULT true,
    published               boolean NOT NULL DEFAULT false,
    freeze_authoring_data   boolean NOT NULL DEFAULT false,
    source_channel_id       text,
    source_node_id          text,
    original_channel_id     text,
    original_source_node_id text,
    created_at              timestamp NOT NULL,
    modified_at             timestamp NOT NULL,
    created_by_id           text,
    modified_by_id          text
);
--bun:split
CREATE INDEX content_nodes_children ON content_nodes (parent_id, sort_order, id);
--bun:split
CREATE INDEX content_nodes_channel ON content_nodes (channel_id, created_at, id);
--bun:split
CREATE INDEX content_nodes_channel_kind ON content_nodes (channel_id, kind);
--bun:split
CREATE INDEX content_nodes_channel_modified ON content_nodes (channel_id, modified_at);
--bun:split
CREATE INDEX content_nodes_channel_edit_lag ON content_nodes (channel_id, (julianday(modified_at) - julianday(created_at)));
--bun:split
CREATE INDEX content_nodes_channel_flags ON content_nodes (channel_id, complete, published, changed);
--bun:split
CREATE INDEX content_nodes_content_id ON content_nodes (content_id);
--bun:split

CREATE TABLE content_tags (
    node_id text NOT NULL,
    name    text NOT NULL,
    PRIMARY KEY (node_id, name)
);
--bun:split
CREATE INDEX content_tags_name ON content_tags (name);
--bun:split

CREATE TABLE prerequisites (
    target_node_id  text NOT NULL,
    prerequisite_id text NOT NULL,
    PRIMARY KEY (target_node_id, prerequisite_id),
    CHECK (target_node_id <> prerequisite_id)
);
--bun:split
CREATE INDEX prerequisites_prerequisite ON prerequisites (prerequisite_id);
--bun:split

CREATE TABLE assessment_items (
    id            text PRIMARY KEY,
    node_id       text NOT NULL,
    assessment_id text NOT NULL,
    type          text NOT NULL,
    question      text NOT NULL DEFAULT '',
    answers       text NOT NULL DEFAULT '[]' CHECK (json_valid(answers)),
    hints         text NOT NULL DEFAULT '[]' CHECK (json_valid(hints)),
    raw_data      text NOT NULL DEFAULT '',
    sort_order    integer NOT NULL DEFAULT 1,
    randomize     boolean NOT NULL DEFAULT false,
    source_url    text NOT NULL DEFAULT '',
    created_at    timestamp NOT NULL,
    modified_at   timestamp NOT NULL,
    UNIQUE (node_id, assessment_id)
);
--bun:split

CREATE TABLE files (
    id                 text PRIMARY KEY,
    node_id            text,
    assessment_item_id text,
    checksum           text NOT NULL,
    size               bigint NOT NULL,
    extension          text NOT NULL,
    preset             text NOT NULL,
    language           text NOT NULL DEFAULT '',
    duration           integer CHECK (duration IS NULL OR duration > 0),
    original_filename  text NOT NULL DEFAULT '',
    source_url         text NOT NULL DEFAULT '',
    uploaded_by_id     text REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamp NOT NULL,
    modified_at        timestamp NOT NULL
);
--bun:split
CREATE INDEX files_node ON files (node_id);
--bun:split
CREATE INDEX files_assessment_item ON files (assessment_item_id);
--bun:split
CREATE INDEX files_checksum ON files (checksum, size);
--bun:split
CREATE INDEX files_uploaded_by ON files (uploaded_by_id);
--bun:split

-- The change log: every write appends here in its own transaction.
-- No foreign keys either: the log is written in bulk by every write, and
-- what it refers to (channels, users) is never deleted.
CREATE TABLE changes (
    server_rev    integer PRIMARY KEY AUTOINCREMENT,
    channel_id    text,
    user_id       text,
    created_by_id text,
    client_rev    bigint,
    table_name    text NOT NULL,
    change_type   integer NOT NULL,
    key           text NOT NULL CHECK (json_valid(key)),
    payload       text NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    created_at    timestamp NOT NULL
);
--bun:split
CREATE INDEX changes_channel ON changes (channel_id, server_rev);
--bun:split
CREATE INDEX changes_user ON changes (user_id, server_rev);
--bun:split
