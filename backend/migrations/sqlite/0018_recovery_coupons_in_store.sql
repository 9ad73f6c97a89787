-- A recovery coupon is made in the WooCommerce store before the message carrying it goes:
-- the store's id once it has the coupon, and when an expired, unused one was removed
-- from the store (or found used, so it stays).
ALTER TABLE whatsapp_carts ADD COLUMN coupon_woo_id INTEGER;
-- A coupon of a fixed amount off (minor units) rather than a percent.
ALTER TABLE whatsapp_carts ADD COLUMN coupon_amount_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE whatsapp_carts ADD COLUMN coupon_settled_at INTEGER;
CREATE INDEX whatsapp_carts_coupon_expiry ON whatsapp_carts (coupon_expires_at);
