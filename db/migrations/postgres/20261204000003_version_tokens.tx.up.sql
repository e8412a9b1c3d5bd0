-- Released migrations never change; add a new file instead.

-- Each version of a channel gets a secret token of its own, as Studio's
-- ChannelVersion: Kolibri's lookup of it answers with that version, so that
-- `kolibri manage importchannel network <token>` fetches <id>-<version>.sqlite3.
-- A channel's draft is its row of version 0 (Kolibri's number for a draft),
-- with a token that later drafts keep; a publish removes it. The primary
-- token (channel_tokens) still follows the current version.
ALTER TABLE channel_versions ADD COLUMN token text;

-- Versions published before get a token now: a 10-letter proquint, as
-- kolibri.Proquint makes them, from gen_random_uuid()'s strong random bytes
-- (random() is not). A version whose token happens to be another's draws again.
UPDATE channel_versions SET token =
       substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
WHERE token IS NULL;
UPDATE channel_versions SET token =
       substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
    || substr('aiou', (get_byte(uuid_send(gen_random_uuid()), 0) & 3) + 1, 1)
    || substr('bdfghjklmnprstvz', (get_byte(uuid_send(gen_random_uuid()), 0) & 15) + 1, 1)
WHERE token IN (SELECT token FROM channel_versions GROUP BY token HAVING count(*) > 1);
CREATE UNIQUE INDEX channel_versions_token ON channel_versions (token);

-- Kolibri fetches <id>-next.sqlite3 with no credentials, right after it has
-- looked the draft's token up. That lookup lets the address it came from
-- fetch the channel's draft until expires_at; nobody else may but the
-- channel's members.
CREATE TABLE draft_grants (
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    client     text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (channel_id, client)
);
