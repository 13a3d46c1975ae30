-- Agent workspace: transfers to level-2 specialists, round-robin bookkeeping, case notes,
-- one shortcut per scope for canned responses.

-- A chat that reached its group through "Transfer" (level-2 specialists serve only these).
ALTER TABLE conversations ADD COLUMN transferred boolean NOT NULL DEFAULT false;

-- Round robin hands the next chat to the agent who got one longest ago.
ALTER TABLE users ADD COLUMN last_assigned_at timestamptz;

-- Notes on a case (the first note of a case made from a chat links to its transcript).
CREATE TABLE case_notes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id     uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_notes_case_idx ON case_notes (case_id, created_at);
-- One case per chat.
CREATE UNIQUE INDEX cases_conversation_key ON cases (conversation_id) WHERE conversation_id IS NOT NULL;

-- A shortcut means one thing per scope: per agent for personal responses, per site otherwise.
CREATE UNIQUE INDEX canned_personal_shortcut_key ON canned_responses (owner_id, shortcut) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX canned_site_shortcut_key ON canned_responses (site_id, shortcut) WHERE owner_id IS NULL;

-- The "Chatting" list reads open chats by assignee and by site.
CREATE INDEX conversations_open_site_idx ON conversations (site_id, updated_at DESC) WHERE status IN ('assigned', 'active');
