-- The dashboard's "Available" switch starts on, as in other help desks: an agent who is
-- signed in and connected takes chats unless they switch it off. (Nothing had been deployed
-- with the old default, so existing rows follow too.)
ALTER TABLE users ALTER COLUMN available SET DEFAULT true;
UPDATE users SET available = true;
