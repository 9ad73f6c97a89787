-- A digest of what Backroom wrote of a store's order: a copy read again with the same
-- `modified_at` is written again only when its digest differs (the store changed it twice
-- in one second), so a reconcile reading its overlap again writes nothing.
ALTER TABLE orders ADD COLUMN fingerprint BIGINT;
