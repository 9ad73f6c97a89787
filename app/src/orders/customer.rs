//! The customer's details on an order's page, to edit: the billing name, company, address,
//! e-mail and phone, and the shipping address. The form starts from what the order has;
//! the backend keeps each field as typed and changes only those that differ (an order the
//! store keeps is then changed in the store too).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::PanelError, forms::action_error};

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
    /// Every field as typed: those unchanged are left as they are by the backend.
    fn edit(self, with_email: bool) -> backend::orders::customer::AddressEdit {
        backend::orders::customer::AddressEdit {
            first_name: Some(self.first_name),
            last_name: Some(self.last_name),
            company: Some(self.company),
            address_1: Some(self.address_1),
            address_2: Some(self.address_2),
            city: Some(self.city),
            state: Some(self.state),
            postcode: Some(self.postcode),
            country: Some(self.country),
            email: with_email.then_some(self.email),
            phone: Some(self.phone),
        }
    }
}

/// Saves the order's customer details; answers what happened, for the page's status line.
#[server(endpoint = "edit_order_customer")]
pub async fn edit_order_customer(id: i64, billing: AddressForm, shipping: AddressForm) -> Result<String, PanelError> {
    use backend::orders::customer::{self, CustomerEdit};
    let me = crate::context::acting(backend::users::Role::manages_orders).await?;
    let edit = CustomerEdit { billing: Some(billing.edit(true)), shipping: Some(shipping.edit(false)) };
    let changed = customer::edit(&me.ctx.db, &me.ctx.order_events, me.actor(), id, &edit).await?;
    Ok(if changed.is_empty() { "Nothing was changed." } else { "The customer's details are saved." }.to_owned())
}

/// The form, folded away until opened: a fieldset per address, each field labelled.
#[component]
pub fn CustomerForm(
    id: i64,
    billing: AddressForm,
    shipping: AddressForm,
    action: ServerAction<EditOrderCustomer>,
) -> impl IntoView {
    let error = action_error(action);
    view! {
        <details class="card customer-edit">
            <summary>"Edit the customer's details"</summary>
            <ActionForm action>
                <input type="hidden" name="id" value=id/>
                <div class="order-columns">
                    <AddressFields address="billing" legend="Billing" values=billing/>
                    <AddressFields address="shipping" legend="Shipping" values=shipping/>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || action.pending().get()>"Save customer details"</button>
            </ActionForm>
        </details>
    }
}

/// The fields of one address (`billing` or `shipping`), named `billing[city]` and so on.
#[component]
fn AddressFields(address: &'static str, legend: &'static str, values: AddressForm) -> impl IntoView {
    // The manager's browser must not fill in the manager's own details.
    let mut fields = vec![
        ("first_name", "first name", values.first_name),
        ("last_name", "last name", values.last_name),
        ("company", "company", values.company),
        ("address_1", "street address", values.address_1),
        ("address_2", "apartment, suite, etc.", values.address_2),
        ("postcode", "postcode", values.postcode),
        ("city", "town / city", values.city),
        ("state", "state / province", values.state),
        ("country", "country code (such as TR)", values.country),
    ];
    if address == "billing" {
        fields.push(("email", "email", values.email));
    }
    fields.push(("phone", "phone", values.phone));
    view! {
        <fieldset>
            <legend>{legend}</legend>
            {fields.into_iter().map(|(field, label, value)| {
                let id = format!("{address}-{field}");
                let kind = match field {
                    "email" => "email",
                    "phone" => "tel",
                    _ => "text",
                };
                let max = if field == "country" { "2" } else { "200" };
                view! {
                    <div class="field">
                        <label for=id.clone()>{format!("{legend} {label}")}</label>
                        <input id=id name=format!("{address}[{field}]") type=kind value=value maxlength=max autocomplete="off"/>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}
