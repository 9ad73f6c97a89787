-- Searching orders by name: the start of the first or the last name, case folded, found
-- through an index instead of reading every order. Byte order ("C") so a prefix is a
-- range, as in SQLite.
CREATE INDEX orders_first_name ON orders ((LOWER(billing_first_name) COLLATE "C"), created_at);
CREATE INDEX orders_last_name ON orders ((LOWER(billing_last_name) COLLATE "C"), created_at);
