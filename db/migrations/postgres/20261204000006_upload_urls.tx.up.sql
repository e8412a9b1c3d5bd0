-- Released migrations never change; add a new file instead.

-- ricecooker uploads a file in two steps: /api/file/upload_url names it (its
-- md5, extension and size) and answers with a one-time URL on studio, to
-- which the chef then PUTs the bytes, on whichever instance. Only the URL's
-- SHA-256 is kept, as for API tokens. A row counts against its user's quota
-- and keeps its blob from the collector for a while after it was made: the
-- chef names the file in add_nodes only after it has uploaded all of them.
CREATE TABLE upload_urls (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    checksum   text NOT NULL,
    extension  text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX upload_urls_user ON upload_urls (user_id, checksum);
CREATE INDEX upload_urls_checksum ON upload_urls (checksum);
CREATE INDEX upload_urls_created ON upload_urls (created_at);
