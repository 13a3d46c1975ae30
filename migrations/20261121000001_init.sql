-- Switchboard schema: the whole domain, so later features extend it rather than rewrite it.
-- Conventions: uuid keys (gen_random_uuid, built into Postgres 13+), timestamptz everywhere,
-- enumerations as text with CHECK constraints (cheap to extend with a new migration),
-- per-site settings that are read as one document kept as jsonb.

-- Staff accounts: agents and admins.
CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('admin', 'agent')),
    active          boolean NOT NULL DEFAULT true,
    -- cap of simultaneous chats for auto-assignment
    max_chats       integer NOT NULL DEFAULT 5 CHECK (max_chats BETWEEN 1 AND 100),
    -- the "Available" switch of the agent dashboard
    available       boolean NOT NULL DEFAULT false,
    last_seen_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deactivated_at  timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Server-side sessions; the cookie carries a random token, we keep only its SHA-256.
CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ip            text,
    user_agent    text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Sign-in attempts, for the lockout (more than 5 failures per email+IP in 15 minutes).
CREATE TABLE login_attempts (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    ip            text NOT NULL,
    succeeded     boolean NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_lookup_idx ON login_attempts (email, ip, attempted_at);

-- A site is one embedded widget with its own settings.
CREATE TABLE sites (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key                  text NOT NULL UNIQUE,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    -- empty = any origin may embed the widget
    allowed_origins      text[] NOT NULL DEFAULT '{}',
    guest_mode           boolean NOT NULL DEFAULT true,
    guest_group_id       uuid,
    -- HMAC-SHA256 key for identify(); rotating replaces it
    identity_secret      text NOT NULL,
    identity_rotated_at  timestamptz,
    -- colour, launcher position, title, welcome text, language
    appearance           jsonb NOT NULL DEFAULT '{"color":"#2563eb","position":"right","title":"Chat with us","welcome":"Hi! How can we help?","language":"en"}',
    -- which pre-chat fields show and which are required
    prechat              jsonb NOT NULL DEFAULT '{"name":{"show":true,"required":true},"email":{"show":true,"required":false},"phone":{"show":true,"required":false}}',
    -- {"time_zone":"UTC","weekly":{...},"holidays":[...]}; null = always open
    working_hours        jsonb,
    -- auto greeting, busy reply (text + minutes), away message
    greetings            jsonb NOT NULL DEFAULT '{}',
    assignment_mode      text NOT NULL DEFAULT 'off' CHECK (assignment_mode IN ('off', 'round_robin', 'least_busy')),
    allow_direct_level2  boolean NOT NULL DEFAULT false,
    attachment_max_bytes bigint NOT NULL DEFAULT 10485760 CHECK (attachment_max_bytes > 0),
    attachment_types     text[] NOT NULL DEFAULT '{image/*,application/pdf,text/plain,application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet}',
    first_response_target_secs integer CHECK (first_response_target_secs > 0),
    resolution_target_secs     integer CHECK (resolution_target_secs > 0),
    visitor_token_days   integer NOT NULL DEFAULT 365 CHECK (visitor_token_days BETWEEN 1 AND 3650),
    -- optimistic concurrency for admin edits: a stale form is refused
    version              integer NOT NULL DEFAULT 1,
    updated_by           uuid REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    archived_at          timestamptz
);

-- Groups of agents, one site each; members serve at a specialist level.
CREATE TABLE groups (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id      uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    created_at   timestamptz NOT NULL DEFAULT now(),
    archived_at  timestamptz
);
CREATE UNIQUE INDEX groups_site_name_key ON groups (site_id, lower(name));
ALTER TABLE sites ADD CONSTRAINT sites_guest_group_fk FOREIGN KEY (guest_group_id) REFERENCES groups (id) ON DELETE SET NULL;

-- Level 1 serves visitor-initiated chats; level 2 only transferred ones.
CREATE TABLE group_members (
    group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level       smallint NOT NULL CHECK (level IN (1, 2)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

-- Visitors (guests and registered contacts) of one site.
CREATE TABLE contacts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id       uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name          text,
    email         text,
    phone         text,
    -- user_id given by the host site through a verified identify()
    external_id   text,
    verified      boolean NOT NULL DEFAULT false,
    -- browser, OS, IP, page, referrer, language, time zone
    metadata      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_site_email_idx ON contacts (site_id, lower(email));
CREATE UNIQUE INDEX contacts_site_external_key ON contacts (site_id, external_id) WHERE external_id IS NOT NULL;

-- A visitor device's token (kept in the host page's storage); only its hash is stored.
CREATE TABLE visitor_tokens (
    token_hash   bytea PRIMARY KEY,
    contact_id   uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX visitor_tokens_contact_idx ON visitor_tokens (contact_id);

CREATE TABLE conversations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id            uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    contact_id         uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    group_id           uuid REFERENCES groups (id) ON DELETE SET NULL,
    assignee_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    status             text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'assigned', 'active', 'resolved')),
    title              text,
    tags               text[] NOT NULL DEFAULT '{}',
    metadata           jsonb NOT NULL DEFAULT '{}',
    -- last sequence number used by this conversation's event log
    last_seq           bigint NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    waiting_since      timestamptz DEFAULT now(),
    assigned_at        timestamptz,
    first_response_at  timestamptz,
    resolved_at        timestamptz
);
CREATE INDEX conversations_site_status_idx ON conversations (site_id, status, waiting_since);
CREATE INDEX conversations_assignee_idx ON conversations (assignee_id) WHERE status IN ('assigned', 'active');
CREATE INDEX conversations_contact_idx ON conversations (contact_id);
CREATE INDEX conversations_tags_idx ON conversations USING gin (tags);

-- Every conversation event (message, status change, assignment, read mark, attachment,
-- rating) with its per-conversation sequence: the log clients resume from.
CREATE TABLE conversation_events (
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              bigint NOT NULL,
    kind             text NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}',
    -- private events (notes) never reach visitors
    agents_only      boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE messages (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id    uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq                bigint NOT NULL,
    author_kind        text NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'system')),
    author_user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    author_contact_id  uuid REFERENCES contacts (id) ON DELETE SET NULL,
    body               text NOT NULL CHECK (length(body) <= 5000),
    private_note       boolean NOT NULL DEFAULT false,
    -- client-generated; a retried send is stored once
    idempotency_key    text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    delivered_at       timestamptz,
    read_at            timestamptz,
    UNIQUE (conversation_id, idempotency_key),
    UNIQUE (conversation_id, seq)
);

-- Files are stored content-addressed under the data directory; rows say who may see them.
CREATE TABLE attachments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id       uuid REFERENCES messages (id) ON DELETE SET NULL,
    sha256           text NOT NULL,
    filename         text NOT NULL,
    content_type     text NOT NULL,
    size_bytes       bigint NOT NULL CHECK (size_bytes >= 0),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_conversation_idx ON attachments (conversation_id);

-- One rating per conversation.
CREATE TABLE ratings (
    conversation_id  uuid PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    score            smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    feedback         text CHECK (length(feedback) <= 2000),
    anonymous        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Site-wide responses have site_id; personal ones have owner_id.
CREATE TABLE canned_responses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid REFERENCES sites (id) ON DELETE CASCADE,
    owner_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    shortcut    text NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]{1,32}$'),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (site_id IS NOT NULL OR owner_id IS NOT NULL)
);

-- Offline messages and chats turned into cases.
CREATE TABLE cases (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id          uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    contact_id       uuid REFERENCES contacts (id) ON DELETE SET NULL,
    conversation_id  uuid REFERENCES conversations (id) ON DELETE SET NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    name             text,
    email            text,
    phone            text,
    message          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz
);
CREATE INDEX cases_site_status_idx ON cases (site_id, status, created_at);

-- Who changed what setting, with before and after.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   text,
    before      jsonb,
    after       jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
