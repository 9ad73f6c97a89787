-- Sales per product per day in the shop's time zone, kept with each order change like
-- sales_daily: the reports' top products read a row per product and day, not every
-- order line of the period. Lines without a product count under product_id 0; name is
-- the line's name when the row began (the report prefers the product's current name).
CREATE TABLE product_sales_daily (
    day        TEXT    NOT NULL,
    currency   TEXT    NOT NULL,
    product_id BIGINT NOT NULL,
    name       TEXT    NOT NULL,
    quantity   BIGINT NOT NULL DEFAULT 0,
    revenue    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, currency, product_id)
);

-- A shop that already has orders fills the new table by rebuilding the daily figures.
INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
SELECT 'sales_daily.rebuild', '{}', 'queued', 0, 5, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)
WHERE EXISTS (SELECT 1 FROM orders);
