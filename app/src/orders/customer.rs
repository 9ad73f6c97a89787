//! The customer's details on an order's page, to edit: the billing name, company, address,
//! e-mail and phone, and the shipping address. The form starts from what the order has and
//! sends only the fields typed differently, so a field changed meanwhile elsewhere (in the
//! store, by someone else) is not set back to what the page showed; the backend keeps each
//! as typed (an order the store keeps is then changed in the store too).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use vocabulary::{orders::MAX_CUSTOMER_FIELD_CHARS, people::Email};

use crate::{error::PanelError, forms::action_error};

/// The fields in the form's order, each with its label (after "Billing" or "Shipping").
const FIELDS: [(&str, &str); 11] = [
    ("first_name", "first name"),
    ("last_name", "last name"),
    ("company", "company"),
    ("address_1", "street address"),
    ("address_2", "apartment, suite, etc."),
    ("postcode", "postcode"),
    ("city", "town / city"),
    ("state", "state / province"),
    ("country", "country code (such as TR)"),
    ("email", "email"),
    ("phone", "phone"),
];

/// An address's fields as the form has them (the shipping address has no e-mail).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddressForm {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub email: String,
    pub phone: String,
}

impl AddressForm {
    /// The values in [`FIELDS`] order.
    fn values(self) -> [String; 11] {
        [
            self.first_name,
            self.last_name,
            self.company,
            self.address_1,
            self.address_2,
            self.postcode,
            self.city,
            self.state,
            self.country,
            self.email,
            self.phone,
        ]
    }

    /// The fields an address (`billing` or `shipping`) has, with their labels and values.
    fn of(self, address: &str) -> impl Iterator<Item = (&'static str, &'static str, String)> {
        let with_email = address == "billing";
        FIELDS
            .into_iter()
            .zip(self.values())
            .filter(move |((field, _), _)| with_email || *field != "email")
            .map(|((field, label), value)| (field, label, value))
    }
}

#[cfg(feature = "ssr")]
impl From<&backend::orders::detail::Address> for AddressForm {
    fn from(a: &backend::orders::detail::Address) -> AddressForm {
        AddressForm {
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            company: a.company.clone(),
            address_1: a.address_1.clone(),
            address_2: a.address_2.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postcode: a.postcode.clone(),
            country: a.country.clone(),
            email: a.email.clone(),
            phone: a.phone.clone(),
        }
    }
}

#[cfg(feature = "ssr")]
impl AddressForm {
    /// The fields typed differently from what the form showed (`was`).
    fn edit(self, was: AddressForm, with_email: bool) -> backend::orders::customer::AddressEdit {
        let changed = |now: String, was: String| (now.trim() != was.trim()).then_some(now);
        backend::orders::customer::AddressEdit {
            first_name: changed(self.first_name, was.first_name),
            last_name: changed(self.last_name, was.last_name),
            company: changed(self.company, was.company),
            address_1: changed(self.address_1, was.address_1),
            address_2: changed(self.address_2, was.address_2),
            city: changed(self.city, was.city),
            state: changed(self.state, was.state),
            postcode: changed(self.postcode, was.postcode),
            country: changed(self.country, was.country),
            email: changed(self.email, was.email).filter(|_| with_email),
            phone: changed(self.phone, was.phone),
        }
    }
}

/// Saves the fields of the order's customer details typed differently from what the form
/// showed (`*_was`); answers what happened, for the page's status line.
#[server(endpoint = "edit_order_customer")]
pub async fn edit_order_customer(
    id: i64,
    billing: AddressForm,
    shipping: AddressForm,
    billing_was: AddressForm,
    shipping_was: AddressForm,
) -> Result<String, PanelError> {
    use backend::orders::customer::{self, AddressEdit, CustomerEdit};
    let me = crate::context::acting(backend::users::Role::manages_orders).await?;
    let (billing, shipping) = (billing.edit(billing_was, true), shipping.edit(shipping_was, false));
    if billing == AddressEdit::default() && shipping == AddressEdit::default() {
        return Ok("Nothing was changed.".to_owned());
    }
    let edit = CustomerEdit { billing: Some(billing), shipping: Some(shipping) };
    customer::edit(&me.ctx.db, &me.ctx.order_events, me.actor(), id, &edit).await?;
    Ok("The customer's details are saved.".to_owned())
}

/// The form, folded away until its button opens it: a fieldset per address, each field
/// labelled.
#[component]
pub fn CustomerForm(
    id: i64,
    billing: AddressForm,
    shipping: AddressForm,
    action: ServerAction<EditOrderCustomer>,
) -> impl IntoView {
    let error = action_error(action);
    let open = RwSignal::new(false);
    view! {
        <section class="card customer-edit" aria-labelledby="customer-edit-heading">
            <h2 id="customer-edit-heading">
                <button type="button" class="disclosure" aria-controls="customer-edit-form"
                    aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                    "Edit the customer's details"
                </button>
            </h2>
            <div id="customer-edit-form" hidden=move || !open.get()>
                <ActionForm action>
                    <input type="hidden" name="id" value=id/>
                    <div class="order-columns">
                        <AddressFields address="billing" legend="Billing" values=billing/>
                        <AddressFields address="shipping" legend="Shipping" values=shipping/>
                    </div>
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" disabled=move || action.pending().get()>"Save customer details"</button>
                </ActionForm>
            </div>
        </section>
    }
}

/// The fields of one address (`billing` or `shipping`), named `billing[city]` and so on,
/// and what the form showed of each (`billing_was[city]`).
#[component]
fn AddressFields(address: &'static str, legend: &'static str, values: AddressForm) -> impl IntoView {
    view! {
        <fieldset>
            <legend>{legend}</legend>
            {values.of(address).map(|(field, label, value)| {
                let id = format!("{address}-{field}");
                let kind = match field {
                    "email" => "email",
                    "phone" => "tel",
                    _ => "text",
                };
                let max = match field {
                    "country" => 2,
                    "email" => Email::MAX_LENGTH,
                    _ => MAX_CUSTOMER_FIELD_CHARS,
                };
                view! {
                    <div class="field">
                        <label for=id.clone()>{format!("{legend} {label}")}</label>
                        // `prop:value` too: an action redraws the form in place, over what was typed.
                        // `autocomplete="off"`: the manager's browser must not offer the manager's own details.
                        <input id=id name=format!("{address}[{field}]") type=kind value=value.clone() prop:value=value.clone() maxlength=max.to_string()
                            autocomplete="off"/>
                        <input type="hidden" name=format!("{address}_was[{field}]") value=value/>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}
