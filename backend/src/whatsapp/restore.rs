//! Where a recovery link leads, and the cart it puts back. `/r/{token}` records the click
//! and sends the shopper to the shop's home page with UTM tags and the link's token in
//! the fragment (`#backroom_restore=…`: browsers never send a fragment, so it stays out
//! of the shop's logs and its analytics' requests). There Backroom's storefront snippet
//! asks [`cart`] what the cart held, adds it to the shopper's cart through WooCommerce's
//! Store API with the coupon the store has for it, and goes on to the checkout. The home
//! page, not the checkout: WooCommerce sends an empty cart's checkout to the cart page.

use serde::Serialize;
use sqlx::Row;

use super::{WhatsApp, carts, link::Refused};
use crate::{Result, clock::now};

/// The fragment's key carrying the link's token to the storefront.
pub const RESTORE_PARAM: &str = "backroom_restore";

/// Where a recovery link leads (the shop's home page with UTM tags and the token), after
/// recording the click. `Err` says why the link does not work.
pub async fn follow(whatsapp: &WhatsApp, token: &str) -> Result<String, Refused> {
    let link = whatsapp.links.check(token, now())?;
    match record_click(whatsapp, link.cart_id, link.step).await {
        Ok(Some(restore_url)) => {
            let home = shop_home(whatsapp).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e.report(), "the store's home page could not be read");
                None
            });
            Ok(landing(&home.unwrap_or_else(|| site_root(&restore_url)), token, link.step))
        }
        Ok(None) => Err(Refused::Invalid),
        Err(e) => {
            tracing::error!(error = %e.report(), "a recovery click could not be recorded");
            Err(Refused::Invalid)
        }
    }
}

/// The cart's restore URL, after counting the click; `None` when the cart is gone.
async fn record_click(whatsapp: &WhatsApp, cart_id: i64, step: i64) -> Result<Option<String>> {
    let at = now();
    let mut tx = whatsapp.db.begin().await?;
    let restore: Option<String> = sqlx::query_scalar("SELECT restore_url FROM whatsapp_carts WHERE id = $1")
        .bind(cart_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(restore) = restore else { return Ok(None) };
    sqlx::query("UPDATE whatsapp_carts SET clicks = clicks + 1, first_clicked_at = COALESCE(first_clicked_at, $1) WHERE id = $2")
        .bind(at)
        .bind(cart_id)
        .execute(&mut *tx)
        .await?;
    carts::event(&mut tx, cart_id, "clicked", &format!("the link in message {step}")).await?;
    tx.commit().await?;
    Ok(Some(restore))
}

/// The connected store's home page, when a store is connected and its home page is on
/// one of the shop's origins (where the snippet may ask for the cart).
async fn shop_home(whatsapp: &WhatsApp) -> Result<Option<String>> {
    let stored = crate::woo::connection::stored(whatsapp.db.pool()).await?;
    if !stored.connected {
        return Ok(None);
    }
    let config = super::settings::config(whatsapp.db.pool()).await?;
    let home = stored.facts.home_url;
    let origin = reqwest::Url::parse(&home).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    Ok(config.is_shop_origin(&origin).then_some(home))
}

/// The root of the site `page` is on (`https://shop.example/`), or `page` when it is no URL.
fn site_root(page: &str) -> String {
    match reqwest::Url::parse(page) {
        Ok(url) => format!("{}/", url.origin().ascii_serialization()),
        Err(_) => page.to_owned(),
    }
}

/// `page` (the shop's home page), with the token and `utm_source=whatsapp`, `utm_medium=recovery`,
/// `utm_campaign=cart_recovery` and the step as `utm_content` (replacing any UTM it had).
pub fn landing(page: &str, token: &str, step: i64) -> String {
    let Ok(mut url) = reqwest::Url::parse(page) else { return page.to_owned() };
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_fragment(Some(&format!("{RESTORE_PARAM}={token}")));
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("utm_source", "whatsapp")
        .append_pair("utm_medium", "recovery")
        .append_pair("utm_campaign", "cart_recovery")
        .append_pair("utm_content", &format!("message_{step}"));
    url.to_string()
}

/// What the storefront puts back in the shopper's cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Restore {
    /// The lines with a product the store knows (a line without one cannot be put back).
    pub lines: Vec<RestoreLine>,
    /// The lines that cannot be put back, by name.
    pub unknown: Vec<String>,
    /// The cart's coupon, while the store has it and it has not expired.
    pub coupon: Option<String>,
    /// With a coupon: the e-mail the shopper gave, the only one the coupon is for. The
    /// checkout is told it first, or the store refuses the coupon.
    pub email: Option<String>,
    /// Where the shopper left the checkout.
    pub checkout_url: String,
    /// The cart was bought already: nothing is put back.
    pub ordered: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreLine {
    /// The product's (or variation's) id in the store.
    pub product_id: i64,
    pub quantity: i64,
    pub name: String,
}

/// The cart a recovery link's token names, to put back. `Err` says why the token does
/// not work (the cart gone counts as invalid).
pub async fn cart(whatsapp: &WhatsApp, token: &str) -> Result<Restore, Refused> {
    let at = now();
    let link = whatsapp.links.check(token, at)?;
    let row = sqlx::query(
        "SELECT state, lines, restore_url, email, coupon_code, coupon_woo_id, coupon_expires_at, coupon_settled_at \
         FROM whatsapp_carts WHERE id = $1",
    )
    .bind(link.cart_id)
    .fetch_optional(whatsapp.db.pool())
    .await;
    let restore = row.map_err(crate::Error::from).and_then(|row| row.map(|r| read_restore(&r, at)).transpose());
    match restore {
        Ok(Some(restore)) => Ok(restore),
        Ok(None) => Err(Refused::Invalid),
        Err(e) => {
            tracing::error!(error = %e.report(), "a cart to restore could not be read");
            Err(Refused::Invalid)
        }
    }
}

fn read_restore(row: &sqlx::any::AnyRow, at: i64) -> Result<Restore> {
    let state: String = row.try_get("state")?;
    let ordered = matches!(state.as_str(), "recovered" | "converted");
    let lines: Vec<carts::Line> = serde_json::from_str(&row.try_get::<String, _>("lines")?).unwrap_or_default();
    let (known, unknown): (Vec<_>, Vec<_>) = lines.into_iter().partition(|l| l.product_id.is_some_and(|id| id > 0));
    // A coupon is offered while the store has it, unexpired, and the cart was not bought.
    let offered = !ordered
        && row.try_get::<Option<i64>, _>("coupon_woo_id")?.is_some()
        && row.try_get::<Option<i64>, _>("coupon_settled_at")?.is_none()
        && row.try_get::<Option<i64>, _>("coupon_expires_at")?.is_some_and(|e| e > at);
    Ok(Restore {
        lines: if ordered {
            Vec::new()
        } else {
            known
                .into_iter()
                .map(|l| RestoreLine {
                    product_id: l.product_id.unwrap_or_default(),
                    quantity: l.quantity,
                    name: l.name,
                })
                .collect()
        },
        unknown: if ordered { Vec::new() } else { unknown.into_iter().map(|l| l.name).collect() },
        coupon: if offered { row.try_get("coupon_code")? } else { None },
        email: if offered { Some(row.try_get::<String, _>("email")?).filter(|email| !email.is_empty()) } else { None },
        checkout_url: row.try_get("restore_url")?,
        ordered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_stores_home_page_links_land_on_the_root_of_the_checkouts_site() {
        assert_eq!(site_root("https://shop.example:8443/tr/checkout/?step=2"), "https://shop.example:8443/");
    }

    #[test]
    fn the_landing_page_gets_the_token_and_utm_tags_and_keeps_its_own_query() {
        let url = landing("https://shop.example/?lang=tr&utm_source=old#top", "abc.def", 2);
        assert_eq!(
            url,
            "https://shop.example/?lang=tr&utm_source=whatsapp&utm_medium=recovery&utm_campaign=cart_recovery&utm_content=message_2#backroom_restore=abc.def"
        );
    }
}
