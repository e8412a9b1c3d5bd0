-- Released migrations never change; add a new file instead.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL DEFAULT '',
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    is_admin      boolean NOT NULL DEFAULT false,
    disk_space    bigint NOT NULL DEFAULT 524288000,
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    token_hash   text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE channels (
    id                   uuid PRIMARY KEY,
    name                 text NOT NULL,
    description          text NOT NULL DEFAULT '',
    tagline              text NOT NULL DEFAULT '',
    language             text NOT NULL DEFAULT '',
    thumbnail            text NOT NULL DEFAULT '',
    thumbnail_encoding   jsonb NOT NULL DEFAULT '{}',
    public               boolean NOT NULL DEFAULT false,
    deleted              boolean NOT NULL DEFAULT false,
    version              integer NOT NULL DEFAULT 0,
    last_published       timestamptz,
    published_size       bigint NOT NULL DEFAULT 0,
    total_resource_count integer NOT NULL DEFAULT 0,
    published_kind_count jsonb NOT NULL DEFAULT '[]',
    included_languages   jsonb NOT NULL DEFAULT '[]',
    content_defaults     jsonb NOT NULL DEFAULT '{}',
    root_id              uuid NOT NULL,
    trash_root_id        uuid NOT NULL,
    created_at           timestamptz NOT NULL,
    modified_at          timestamptz NOT NULL
);
CREATE INDEX channels_created ON channels (created_at DESC, id DESC);
CREATE INDEX channels_public ON channels (public, deleted);
CREATE INDEX channels_search ON channels USING gin ((name || ' ' || description || ' ' || tagline) gin_trgm_ops);

CREATE TABLE channel_members (
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('editor', 'viewer')),
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members (user_id, channel_id);

-- Secret tokens by which Kolibri looks a channel up (proquint, made on first publish).
CREATE TABLE channel_tokens (
    token      text PRIMARY KEY,
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    is_primary boolean NOT NULL DEFAULT false
);
CREATE INDEX channel_tokens_channel ON channel_tokens (channel_id);

-- The content tree. root_id names the tree (a channel's main or trash root);
-- sort_order is a float between neighbours, so inserts touch one row.
--
-- The tree's tables have no foreign keys: studio's writes keep them
-- consistent (a node's parent and channel come from a locked, checked
-- parent; a permanent delete removes a subtree's rows from every table), and
-- checking keys row by row made bulk inserts and copies several times
-- slower, pathologically so on freshly loaded tables.
CREATE TABLE content_nodes (
    id                      uuid PRIMARY KEY,
    channel_id              uuid NOT NULL,
    root_id                 uuid NOT NULL,
    parent_id               uuid,
    sort_order              double precision NOT NULL,
    node_id                 uuid NOT NULL,
    content_id              uuid NOT NULL,
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
    extra_fields            jsonb NOT NULL DEFAULT '{}',
    thumbnail_encoding      jsonb NOT NULL DEFAULT '{}',
    grade_levels            jsonb NOT NULL DEFAULT '{}',
    resource_types          jsonb NOT NULL DEFAULT '{}',
    learning_activities     jsonb NOT NULL DEFAULT '{}',
    accessibility_labels    jsonb NOT NULL DEFAULT '{}',
    categories              jsonb NOT NULL DEFAULT '{}',
    learner_needs           jsonb NOT NULL DEFAULT '{}',
    suggested_duration      integer,
    complete                boolean NOT NULL DEFAULT false,
    changed                 boolean NOT NULL DEFAULT true,
    published               boolean NOT NULL DEFAULT false,
    freeze_authoring_data   boolean NOT NULL DEFAULT false,
    source_channel_id       uuid,
    source_node_id          uuid,
    original_channel_id     uuid,
    original_source_node_id uuid,
    created_at              timestamptz NOT NULL,
    modified_at             timestamptz NOT NULL,
    created_by_id           uuid,
    modified_by_id          uuid
);
CREATE INDEX content_nodes_children ON content_nodes (parent_id, sort_order, id);
CREATE INDEX content_nodes_channel ON content_nodes (channel_id, created_at, id);
CREATE INDEX content_nodes_channel_kind ON content_nodes (channel_id, kind);
CREATE INDEX content_nodes_channel_modified ON content_nodes (channel_id, modified_at);
CREATE INDEX content_nodes_channel_edit_lag ON content_nodes (channel_id, (modified_at - created_at));
CREATE INDEX content_nodes_channel_flags ON content_nodes (channel_id, complete, published, changed);
CREATE INDEX content_nodes_title ON content_nodes USING gin (title gin_trgm_ops);
CREATE INDEX content_nodes_content_id ON content_nodes (content_id);

CREATE TABLE content_tags (
    node_id uuid NOT NULL,
    name    text NOT NULL,
    PRIMARY KEY (node_id, name)
);
CREATE INDEX content_tags_name ON content_tags (name);

CREATE TABLE prerequisites (
    target_node_id  uuid NOT NULL,
    prerequisite_id uuid NOT NULL,
    PRIMARY KEY (target_node_id, prerequisite_id),
    CHECK (target_node_id <> prerequisite_id)
);
CREATE INDEX prerequisites_prerequisite ON prerequisites (prerequisite_id);

CREATE TABLE assessment_items (
    id            uuid PRIMARY KEY,
    node_id       uuid NOT NULL,
    assessment_id uuid NOT NULL,
    type          text NOT NULL,
    question      text NOT NULL DEFAULT '',
    answers       jsonb NOT NULL DEFAULT '[]',
    hints         jsonb NOT NULL DEFAULT '[]',
    raw_data      text NOT NULL DEFAULT '',
    sort_order    integer NOT NULL DEFAULT 1,
    randomize     boolean NOT NULL DEFAULT false,
    source_url    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    modified_at   timestamptz NOT NULL,
    UNIQUE (node_id, assessment_id)
);

CREATE TABLE files (
    id                 uuid PRIMARY KEY,
    node_id            uuid,
    assessment_item_id uuid,
    checksum           text NOT NULL,
    size               bigint NOT NULL,
    extension          text NOT NULL,
    preset             text NOT NULL,
    language           text NOT NULL DEFAULT '',
    duration           integer CHECK (duration IS NULL OR duration > 0),
    original_filename  text NOT NULL DEFAULT '',
    source_url         text NOT NULL DEFAULT '',
    uploaded_by_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL,
    modified_at        timestamptz NOT NULL
);
CREATE INDEX files_node ON files (node_id);
CREATE INDEX files_assessment_item ON files (assessment_item_id);
CREATE INDEX files_checksum ON files (checksum, size);
CREATE INDEX files_uploaded_by ON files (uploaded_by_id);

-- The change log: every write appends here in its own transaction.
-- No foreign keys either: the log is written in bulk by every write, and
-- what it refers to (channels, users) is never deleted.
CREATE TABLE changes (
    server_rev    bigserial PRIMARY KEY,
    channel_id    uuid,
    user_id       uuid,
    created_by_id uuid,
    client_rev    bigint,
    table_name    text NOT NULL,
    change_type   integer NOT NULL,
    key           jsonb NOT NULL,
    payload       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL
);
CREATE INDEX changes_channel ON changes (channel_id, server_rev);
CREATE INDEX changes_user ON changes (user_id, server_rev);
