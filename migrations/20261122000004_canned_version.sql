-- Site-wide canned responses are edited by several admins: a version per response, and who
-- made the last change, so a stale edit is refused with that name (409) instead of silently
-- overwriting the other admin's text.
ALTER TABLE canned_responses
    ADD COLUMN version bigint NOT NULL DEFAULT 1,
    ADD COLUMN updated_by uuid REFERENCES users (id) ON DELETE SET NULL;
