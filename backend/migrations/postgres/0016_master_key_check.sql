-- A value derived from the master key (revealing nothing of it), so a start with another
-- key — a restore without the key file — is refused instead of failing every secret.
ALTER TABLE store_settings ADD COLUMN master_key_check TEXT;
-- The keys API secrets are hashed with and recovery links signed with, sealed under the
-- master key (at first start, the ones derived from it): a new master key keeps them.
ALTER TABLE store_settings ADD COLUMN api_secrets_key TEXT;
ALTER TABLE store_settings ADD COLUMN recovery_links_key TEXT;
