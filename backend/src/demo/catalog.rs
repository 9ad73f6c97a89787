//! The demo shop's catalogue: product names, prices and variations.

pub const ADJECTIVES: &[&str] = &[
    "Organic",
    "Handmade",
    "Classic",
    "Vintage",
    "Everyday",
    "Premium",
    "Linen",
    "Ceramic",
    "Copper",
    "Olive Wood",
    "Wool",
    "Recycled",
    "Artisan",
    "Minimal",
    "Anatolian",
];

/// (noun, price range in minor units, variable?, tax class)
pub const NOUNS: &[(&str, (i64, i64), bool, &str)] = &[
    ("T-Shirt", (24_900, 59_900), true, ""),
    ("Hoodie", (69_900, 149_900), true, ""),
    ("Coffee Mug", (14_900, 34_900), false, ""),
    ("Tea Glass Set", (19_900, 64_900), false, ""),
    ("Cutting Board", (29_900, 89_900), false, ""),
    ("Scarf", (39_900, 119_900), true, ""),
    ("Notebook", (9_900, 24_900), false, ""),
    ("Turkish Coffee", (12_900, 29_900), false, "reduced-rate"),
    ("Olive Oil", (24_900, 74_900), false, "reduced-rate"),
    ("Towel", (19_900, 69_900), true, ""),
    ("Backpack", (89_900, 249_900), true, ""),
    ("Candle", (14_900, 39_900), false, ""),
    ("Honey Jar", (19_900, 49_900), false, "reduced-rate"),
    ("Sneakers", (149_900, 349_900), true, ""),
    ("Rug", (99_900, 499_900), false, ""),
];

pub const SIZES: &[&str] = &["S", "M", "L", "XL"];
pub const COLOURS: &[&str] = &["Black", "Natural", "Indigo", "Terracotta", "Olive"];

/// VAT in basis points by tax class (Turkey: 20 % standard, 10 % reduced).
pub fn tax_rate_bp(tax_class: &str) -> i64 {
    if tax_class == "reduced-rate" { 1_000 } else { 2_000 }
}

/// (method id, title, share out of 100)
pub const PAYMENT_METHODS: &[(&str, &str, u32)] = &[
    ("iyzico", "Credit card (iyzico)", 55),
    ("stripe", "Credit card (Stripe)", 15),
    ("bacs", "Direct bank transfer", 15),
    ("cod", "Cash on delivery", 15),
];
