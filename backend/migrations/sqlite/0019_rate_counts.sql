-- What the instances let through to each API client (a credential, `connection_key:3`, or
-- an address, `ip:203.0.113.9`) in each 5-second bucket of the clock, so the rate limits
-- are the shop's however many instances serve it. Rows older than the window are removed.
CREATE TABLE rate_counts (
    client   TEXT    NOT NULL,
    bucket   INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (client, bucket)
);
CREATE INDEX rate_counts_bucket ON rate_counts (bucket);
