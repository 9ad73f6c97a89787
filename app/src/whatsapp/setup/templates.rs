//! The setup wizard's templates step: the account's templates as Meta has them, which
//! one each of Backroom's messages uses, and what fills each of its placeholders.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, LoadedLatest},
};

/// A template of the account, as fetched from Meta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateLine {
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub parameters: i64,
    pub url_button: bool,
    /// Why Backroom cannot send it; empty when it can.
    pub unsupported: String,
    /// Approved and sendable: what the mapping and the test send offer.
    pub usable: bool,
}

impl TemplateLine {
    /// "name (language)", as the selects show it.
    pub fn title(&self) -> String {
        format!("{} ({})", self.name, self.language)
    }
}

/// What can fill a parameter: the value sent back, and its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChoice {
    pub value: String,
    pub label: String,
}

/// Which template a message uses, and what fills each of its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingChoice {
    /// `recovery_1`, …, `order_cancelled`.
    pub purpose: String,
    pub template: String,
    pub language: String,
    /// Field values (`first_name`, …), one per parameter, in order.
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// One of Backroom's messages, with what can fill its parameters and its template now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeLine {
    pub purpose: String,
    pub label: String,
    pub fields: Vec<FieldChoice>,
    pub current: Option<MappingChoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatesView {
    pub templates: Vec<TemplateLine>,
    pub purposes: Vec<PurposeLine>,
}

#[server(endpoint = "whatsapp_templates")]
pub async fn whatsapp_templates() -> Result<TemplatesView, PanelError> {
    use backend::whatsapp::{
        config::{Field, Purpose},
        settings, templates,
    };
    let ctx = crate::whatsapp::ssr::reading().await?;
    let config = settings::config(ctx.db.pool()).await?;
    let templates: Vec<TemplateLine> = templates::list(ctx.db.pool())
        .await?
        .into_iter()
        .map(|t| TemplateLine {
            usable: t.is_approved() && t.unsupported.is_none(),
            name: t.name,
            language: t.language,
            status: t.status,
            category: t.category,
            parameters: t.body_params,
            url_button: t.url_button,
            unsupported: t.unsupported.unwrap_or_default(),
        })
        .collect();
    let purposes = Purpose::ALL
        .into_iter()
        .map(|purpose| PurposeLine {
            purpose: purpose.as_str().to_owned(),
            label: purpose.label().to_owned(),
            fields: Field::ALL
                .into_iter()
                .filter(|f| f.fits(purpose, config.recovery.coupon_step))
                .map(|f| FieldChoice { value: ssr::name_of(f), label: f.label().to_owned() })
                .collect(),
            current: config.mapping_for(purpose).map(|m| MappingChoice {
                purpose: purpose.as_str().to_owned(),
                template: m.template.clone(),
                language: m.language.clone(),
                parameters: m.parameters.iter().copied().map(ssr::name_of).collect(),
            }),
        })
        .collect();
    Ok(TemplatesView { templates, purposes })
}

/// Fetches the account's templates from Meta again; answers how many it has.
#[server(endpoint = "refresh_whatsapp_templates")]
pub async fn refresh_whatsapp_templates() -> Result<String, PanelError> {
    let me = crate::whatsapp::ssr::acting().await?;
    Ok(match backend::whatsapp::templates::refresh(&me.ctx.whatsapp).await?.len() {
        0 => "Meta has no templates for this account yet.".to_owned(),
        1 => "1 template fetched from Meta.".to_owned(),
        n => format!("{n} templates fetched from Meta."),
    })
}

/// Saves which template each message uses (the rest of the settings as they are).
/// Fails with the backend's sentence for a template that is not approved, a parameter
/// count that is not the template's, or a field the message has no value for.
#[server(endpoint = "save_whatsapp_mapping", input = leptos::server_fn::codec::Json)]
pub async fn save_whatsapp_mapping(mapping: Vec<MappingChoice>) -> Result<(), PanelError> {
    use backend::whatsapp::settings;
    let me = crate::whatsapp::ssr::acting().await?;
    let whatsapp = &me.ctx.whatsapp;
    let mut config = settings::config(whatsapp.db.pool()).await?;
    config.mapping = mapping.into_iter().map(MappingChoice::parse).collect::<Result<_, _>>()?;
    settings::update_config(&whatsapp.db, &me.user, me.ip.as_deref(), config, whatsapp.short_delays).await?;
    Ok(())
}

#[component]
pub(super) fn TemplatesStep(
    templates: crate::loaded::Load<TemplatesView>,
    refresh: ServerAction<RefreshWhatsappTemplates>,
    save: ServerAction<SaveWhatsappMapping>,
) -> impl IntoView {
    let refresh_error = action_error(refresh);
    view! {
        <p>"Meta sends only approved templates to a shopper who has not written in the last 24 hours. Make them at Meta (WhatsApp Manager → Message templates), then fetch them here."</p>
        <ActionForm action=refresh>
            <button type="submit" disabled=move || refresh.pending().get()>
                {move || if refresh.pending().get() { "Refreshing…" } else { "Refresh from Meta" }}
            </button>
        </ActionForm>
        <div aria-live="polite">
            {move || refresh.value().get().and_then(Result::ok).map(|said| view! { <p class="success">{said}</p> })}
            {move || refresh_error().map(|e| view! { <p class="error">{e}</p> })}
        </div>
        <LoadedLatest resource=templates show=move |t: TemplatesView| view! {
            <TemplateTable templates=t.templates.clone()/>
            <h3 id="mapping-heading">"Which template each message uses"</h3>
            <MappingForm data=t save/>
        }/>
    }
}

#[component]
fn TemplateTable(templates: Vec<TemplateLine>) -> impl IntoView {
    if templates.is_empty() {
        return view! { <p class="muted">"No templates yet: refresh them from Meta once the account is saved."</p> }
            .into_any();
    }
    view! {
        <DataTable headings={&["Name", "Language", "Status", "Category", "Parameters", "Link button", "Why Backroom cannot send it"]}>
            {templates.into_iter().map(|t| view! {
                <tr>
                    <td class="nowrap"><code>{t.name}</code></td>
                    <td>{t.language}</td>
                    <td><span class=if t.status == "APPROVED" { "badge wa-check-ok" } else { "badge" }>{t.status.to_lowercase()}</span></td>
                    <td>{t.category.to_lowercase()}</td>
                    <td class="num">{t.parameters}</td>
                    <td>{if t.url_button { "Yes" } else { "No" }}</td>
                    <td class="wrap">{t.unsupported}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// What the mapping form holds for one message: the chosen template (its place among the
/// usable ones) and the field of each parameter.
#[derive(Clone, Copy)]
struct Choice {
    template: RwSignal<Option<usize>>,
    parameters: RwSignal<Vec<String>>,
}

#[component]
fn MappingForm(data: TemplatesView, save: ServerAction<SaveWhatsappMapping>) -> impl IntoView {
    let usable: Vec<TemplateLine> = data.templates.into_iter().filter(|t| t.usable).collect();
    let rows: Vec<(PurposeLine, Choice)> = data
        .purposes
        .into_iter()
        .map(|purpose| {
            let current = purpose.current.as_ref();
            let template =
                current.and_then(|m| usable.iter().position(|t| t.name == m.template && t.language == m.language));
            let parameters = current.map(|m| m.parameters.clone()).unwrap_or_default();
            (purpose, Choice { template: RwSignal::new(template), parameters: RwSignal::new(parameters) })
        })
        .collect();
    let usable = StoredValue::new(usable);
    let chosen: Vec<(String, Choice)> = rows.iter().map(|(p, c)| (p.purpose.clone(), *c)).collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        let mapping = chosen
            .iter()
            .filter_map(|(purpose, choice)| {
                let index = choice.template.get_untracked()?;
                usable.with_value(|all| all.get(index).cloned()).map(|t| MappingChoice {
                    purpose: purpose.clone(),
                    template: t.name,
                    language: t.language,
                    parameters: choice.parameters.get_untracked(),
                })
            })
            .collect();
        save.dispatch(SaveWhatsappMapping { mapping });
    };
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <form class="mapping-form" aria-labelledby="mapping-heading" on:submit=submit>
            <p class="hint">"Only approved templates Backroom can send are offered. Each placeholder of the template, {{1}} onwards, gets a parameter."</p>
            {rows.into_iter().map(|(purpose, choice)| view! { <PurposeMapping purpose choice usable/> }).collect_view()}
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save the mapping"</button>
            {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
        </form>
    }
}

/// How many parameters the usable template at `index` has; none while no template is
/// chosen.
pub(super) fn parameter_count(usable: StoredValue<Vec<TemplateLine>>, index: Option<usize>) -> usize {
    index.and_then(|i| usable.with_value(|all| all.get(i).map(|t| t.parameters as usize))).unwrap_or(0)
}

/// What a parameter's field does as it changes: puts its value in `slots[i]`.
pub(super) fn set_slot(slots: RwSignal<Vec<String>>, i: usize) -> impl Fn(leptos::ev::Event) + 'static {
    move |ev| {
        let value = event_target_value(&ev);
        slots.update(|slots| {
            if let Some(slot) = slots.get_mut(i) {
                *slot = value;
            }
        });
    }
}

/// One message's template select and, once one is chosen, a select for each of its
/// parameters: exactly as many as the template has.
#[component]
fn PurposeMapping(purpose: PurposeLine, choice: Choice, usable: StoredValue<Vec<TemplateLine>>) -> impl IntoView {
    let Choice { template, parameters } = choice;
    let id = format!("map-{}", purpose.purpose);
    let fields = StoredValue::new(purpose.fields);
    let initial = template.get_untracked();
    let pick = move |ev: leptos::ev::Event| {
        let index = event_target_value(&ev).parse::<usize>().ok();
        let count = parameter_count(usable, index);
        // The parameters first: the selects drawn for the new template show them.
        parameters.update(|chosen| {
            chosen.truncate(count);
            while chosen.len() < count {
                let next = fields
                    .with_value(|f| f.get(chosen.len()).or(f.first()).map(|f| f.value.clone()).unwrap_or_default());
                chosen.push(next);
            }
        });
        template.set(index);
    };
    let parameter_selects = {
        let id = id.clone();
        move || {
            let count = parameter_count(usable, template.get());
            (0..count)
                .map(|i| {
                    let select_id = format!("{id}-{}", i + 1);
                    let current = parameters.with_untracked(|p| p.get(i).cloned().unwrap_or_default());
                    view! {
                        <div class="field">
                            <label for=select_id.clone()>{format!("Parameter {{{{{}}}}}", i + 1)}</label>
                            <select id=select_id on:change=set_slot(parameters, i) prop:value=move || parameters.with(|p| p.get(i).cloned().unwrap_or_default())>
                                {fields.with_value(|f| f.iter().map(|f| view! {
                                    <option value=f.value.clone() selected=f.value == current>{f.label.clone()}</option>
                                }).collect_view())}
                            </select>
                        </div>
                    }
                })
                .collect_view()
        }
    };
    view! {
        <fieldset class="mapping settings-group">
            <legend>{purpose.label}</legend>
            <div class="field">
                <label for=id.clone()>"Template"</label>
                <select id=id.clone() on:change=pick prop:value=move || template.get().map(|i| i.to_string()).unwrap_or_default()>
                    <option value="" selected=initial.is_none()>"— none —"</option>
                    {usable.with_value(|all| all.iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string() selected=initial == Some(i)>{t.title()}</option>
                    }).collect_view())}
                </select>
            </div>
            <div class="mapping-parameters">{parameter_selects}</div>
        </fieldset>
    }
}

/// The templates step on the server: the backend's names for fields and purposes.
#[cfg(feature = "ssr")]
mod ssr {
    use super::*;

    pub(super) fn name_of<T: Serialize>(value: T) -> String {
        serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// `text` as the backend's serialised name of a value (a field); fails saying `what` it is not.
    pub(super) fn parse_name<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, PanelError> {
        serde_json::from_value(serde_json::Value::String(text.to_owned()))
            .map_err(|_| PanelError::Message(format!("“{text}” is not {what}")))
    }

    impl MappingChoice {
        /// The backend's mapping; a purpose is named as `Purpose::as_str` names it.
        pub(super) fn parse(self) -> Result<backend::whatsapp::config::Mapping, PanelError> {
            use backend::whatsapp::config::Purpose;
            Ok(backend::whatsapp::config::Mapping {
                purpose: Purpose::ALL.into_iter().find(|p| p.as_str() == self.purpose).ok_or_else(|| {
                    PanelError::Message(format!("“{}” is not one of Backroom's messages", self.purpose))
                })?,
                template: self.template,
                language: self.language,
                parameters: self
                    .parameters
                    .iter()
                    .map(|f| parse_name(f, "something Backroom can fill a parameter with"))
                    .collect::<Result<_, _>>()?,
            })
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use backend::whatsapp::config::{Field, Purpose};

    use super::{ssr::name_of, *};

    #[test]
    fn a_mapping_is_read_with_the_backends_names_and_refuses_others() {
        let choice = MappingChoice {
            purpose: "order_processing".into(),
            template: "order_processing".into(),
            language: "tr".into(),
            parameters: vec!["first_name".into(), "order_number".into()],
        };
        let mapping = choice.clone().parse().unwrap();
        assert_eq!(
            (mapping.purpose, mapping.parameters),
            (Purpose::OrderProcessing, vec![Field::FirstName, Field::OrderNumber])
        );
        assert_eq!(name_of(Field::CouponExpiry), "coupon_expiry");
        let unknown = MappingChoice { parameters: vec!["shoe_size".into()], ..choice.clone() }.parse().unwrap_err();
        assert!(unknown.to_string().contains("shoe_size"));
        assert!(MappingChoice { purpose: "birthday".into(), ..choice.clone() }.parse().is_err());
        let recovery = MappingChoice { purpose: Purpose::Recovery1.as_str().into(), ..choice }.parse().unwrap();
        assert_eq!(recovery.purpose, Purpose::Recovery1);
    }
}
