-- A refund's lines keep their amount before tax and the tax apart, as order lines and
-- WooCommerce's refunds do. Refunds made in Backroom (those with a person who made them)
-- had kept the amount with its tax included.
UPDATE refund_lines SET amount = amount - tax
WHERE refund_id IN (SELECT id FROM refunds WHERE refunded_by IS NOT NULL);
