//! The recovery carts, newest first, a page at a time: who, how much, where each stands
//! (and why it stopped), how many messages went and when the next goes, clicks, the
//! coupon and the order that recovered it. The state filter and the page live in the
//! address; each cart opens its own page; the whole list downloads as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

use super::{CART_STATES, CARTS_CSV_PATH, CARTS_PATH, CartStateBadge, ListPage, StateFilter, WhatsAppNav, cart_href};
use crate::{
    error::PanelError,
    filters::{Paged, use_listing_query},
    loaded::{DataTable, LoadedLatest},
};

/// The filter and page as the address gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CartsQuery {
    /// One of [`CART_STATES`], or empty for every cart.
    pub state: String,
    /// The id this page's carts are older than; empty on the first page.
    pub cursor: String,
    /// The pages between the first and this one (see [`Paged`]).
    pub prev: String,
}

impl CartsQuery {
    pub fn from_params(params: &ParamsMap) -> CartsQuery {
        let get = |key| params.get(key).unwrap_or_default();
        CartsQuery { state: get("state"), cursor: get("cursor"), prev: get("prev") }
    }
}

impl Paged for CartsQuery {
    const PATH: &'static str = CARTS_PATH;
    fn filters(&self) -> Vec<(&'static str, &str)> {
        vec![("state", self.state.as_str())]
    }
    fn page(&self) -> (&str, &str) {
        (&self.cursor, &self.prev)
    }
    fn at(&self, cursor: String, prev: String) -> CartsQuery {
        CartsQuery { cursor, prev, ..self.clone() }
    }
}

/// A state filter and a cursor as the backend takes them; fails on a state that is not
/// one of `states` or a page that is not an id.
#[cfg(feature = "ssr")]
pub(super) fn state_and_cursor<'q>(
    state: &'q str,
    cursor: &str,
    states: &[(&str, &str)],
) -> Result<(Option<&'q str>, Option<i64>), PanelError> {
    let state = match state.trim() {
        "" => None,
        state if states.iter().any(|(value, _)| *value == state) => Some(state),
        state => return Err(PanelError::Message(format!("“{state}” is not a state this list can show"))),
    };
    let before = match cursor.trim() {
        "" => None,
        id => Some(
            id.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| PanelError::Message("this page of the list does not exist".into()))?,
        ),
    };
    Ok((state, before))
}

/// A cart in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub id: i64,
    pub captured: String,
    pub phone: String,
    pub name: String,
    pub total: String,
    pub state: String,
    pub stop_reason: String,
    pub messages_sent: i64,
    /// When the next message goes; empty when none will.
    pub next_message: String,
    pub clicks: i64,
    pub coupon: String,
    pub order_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartsView {
    pub carts: Vec<CartLine>,
    /// Where the page of older carts starts; absent on the last.
    pub older: Option<String>,
    pub time_zone: String,
}

#[server(endpoint = "whatsapp_carts")]
pub async fn whatsapp_carts(query: CartsQuery) -> Result<CartsView, PanelError> {
    let ctx = super::ssr::reading().await?;
    let (state, before) = state_and_cursor(&query.state, &query.cursor, &CART_STATES)?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    use backend::paging;
    let carts =
        backend::whatsapp::report::carts(&ctx.db, state, before, paging::rows_to_read(super::ssr::PAGE)).await?;
    let page = paging::cut(carts, super::ssr::PAGE, |last| last.id.to_string());
    let older = page.next_cursor;
    Ok(CartsView {
        carts: page
            .rows
            .into_iter()
            .map(|c| CartLine {
                id: c.id,
                captured: backend::clock::local_minute(c.captured_at, tz),
                phone: c.phone,
                name: c.name,
                total: vocabulary::money::format(c.total_minor, &c.currency, &store.locale),
                state: c.state,
                stop_reason: c.stop_reason.unwrap_or_default(),
                messages_sent: c.steps_sent,
                next_message: match (c.next_step, c.next_at) {
                    (Some(step), Some(at)) => format!("#{step} at {}", backend::clock::local_minute(at, tz)),
                    _ => String::new(),
                },
                clicks: c.clicks,
                coupon: c.coupon_code.unwrap_or_default(),
                order_id: c.order_id,
            })
            .collect(),
        older,
        time_zone: store.time_zone,
    })
}

#[component]
pub fn WhatsAppCartsPage() -> impl IntoView {
    let query = use_listing_query(CARTS_PATH, CartsQuery::from_params);
    let carts = crate::loaded::load(move || query.get(), whatsapp_carts);
    let initial = query.get_untracked();
    view! {
        <Title text="WhatsApp carts · Backroom"/>
        <h1>"Carts"</h1>
        <WhatsAppNav/>
        <p class="muted">"Carts captured at checkout with the shopper's consent, newest first. "
            <a class="button" href=CARTS_CSV_PATH rel="external" download="backroom-whatsapp-carts.csv">"Download CSV"</a></p>
        <StateFilter action=CARTS_PATH id="carts-state" states=&CART_STATES current=Signal::derive(move || query.with(|q| q.state.clone())) initial=initial.state/>
        <LoadedLatest resource=carts show=move |page: CartsView| view! {
            <ListPage query rows=page.carts older=page.older time_zone=page.time_zone none="No carts match this filter." table=cart_table/>
        }/>
    }
}

fn cart_table(carts: Vec<CartLine>) -> impl IntoView {
    view! {
        <DataTable headings={&["Cart", "Captured", "Phone", "Name", "Total", "State", "Messages sent", "Next message", "Clicks", "Coupon", "Order"]}>
            {carts.into_iter().map(|c| view! {
                <tr>
                    <td class="nowrap"><a href=cart_href(c.id)>{format!("Cart {}", c.id)}</a></td>
                    <td class="nowrap">{c.captured}</td>
                    <td class="nowrap">{c.phone}</td>
                    <td>{c.name}</td>
                    <td class="num nowrap">{c.total}</td>
                    <td>
                        <CartStateBadge state=c.state/>
                        {(!c.stop_reason.is_empty()).then(|| view! { <span class="stat-sub">" "{c.stop_reason}</span> })}
                    </td>
                    <td class="num">{c.messages_sent}</td>
                    <td class="nowrap">{c.next_message}</td>
                    <td class="num">{c.clicks}</td>
                    <td><code>{c.coupon}</code></td>
                    <td>{c.order_id.map(|id| view! { <a href=format!("/admin/orders/{id}")>{format!("Order {id}")}</a> })}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_pages_back_by_id_and_keeps_its_filter() {
        let first = CartsQuery { state: "open".into(), ..CartsQuery::default() };
        assert_eq!(first.href(), "/admin/whatsapp/carts?state=open");
        let older = first.next_page("41");
        assert_eq!(older.href(), "/admin/whatsapp/carts?state=open&cursor=41");
        assert_eq!(older.first_page(), first);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_state_or_a_page_that_is_not_one_is_refused() {
        assert_eq!(state_and_cursor("open", "41", &CART_STATES), Ok((Some("open"), Some(41))));
        assert_eq!(state_and_cursor("", "", &CART_STATES), Ok((None, None)));
        assert!(state_and_cursor("lost", "", &CART_STATES).unwrap_err().to_string().contains("lost"));
        assert!(state_and_cursor("", "abc", &CART_STATES).unwrap_err().to_string().contains("page"));
    }
}
