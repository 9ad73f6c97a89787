-- A counter moved in the same transaction as every change to the daily sales figures
-- (sales_daily, product_sales_daily): a report computed while it read N is still right
-- while it reads N, so reports can be reused without scanning again.
CREATE TABLE sales_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sales_version (id) VALUES (1);
