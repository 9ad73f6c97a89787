//! The panel's frame: header, navigation for every area, theme switch, sign-out.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

use crate::auth::{CurrentUser, SignOut, SignOutEverywhere, signed_in_user};

/// The areas in the navigation's order: (path, label). Every role sees them but
/// Accounting, which is for those who manage orders (its settings, for owners and admins;
/// its errors and log, for shop managers), and the store's connection and WhatsApp, for
/// owners and admins. Owners and admins also see Security, the audit log, email and
/// background jobs; owners, Users.
pub const AREAS: [(&str, &str); 11] = [
    ("/admin", "Dashboard"),
    ("/admin/orders", "Orders"),
    ("/admin/transactions", "Transactions"),
    ("/admin/reports", "Reports"),
    ("/admin/products", "Products"),
    ("/admin/support", "Support"),
    ("/admin/store", "Store"),
    ("/admin/whatsapp", "WhatsApp"),
    ("/admin/accounting", "Accounting"),
    ("/admin/access", "Access & keys"),
    ("/admin/settings", "Settings"),
];

/// The frame renders at once; only what depends on who is signed in waits for them.
/// (Signed-out visitors never get here: the server's gate sends them to sign in.)
#[component]
pub fn PanelLayout() -> impl IntoView {
    let user = crate::loaded::load(|| (), |_| signed_in_user());
    let sign_out = ServerAction::<SignOut>::new();
    let sign_out_everywhere = ServerAction::<SignOutEverywhere>::new();
    let signed_in = move || async move { user.await.ok().flatten() };
    let unread_tickets = crate::support::provide_unread_count();
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="topbar">
            <Suspense fallback=|| view! { <a class="brand" href="/admin">"Backroom"</a> }>
                {move || Suspend::new(async move {
                    match signed_in().await {
                        Some(u) => view! {
                            <a class="brand" href="/admin">{u.store_name.clone()}<span class="brand-sub">" · Backroom"</span></a>
                            <span class="who" title=u.email.clone()>{u.name.clone()}" ("{u.role_label.clone()}")"</span>
                        }.into_any(),
                        None => view! { <Redirect path="/admin/login"/> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="topbar-actions">
                <ThemeToggle/>
                <ActionForm action=sign_out>
                    <button type="submit">"Sign out"</button>
                </ActionForm>
                <ActionForm action=sign_out_everywhere>
                    <button type="submit" title="End every session of yours, on every device">"Sign out everywhere"</button>
                </ActionForm>
            </div>
        </header>
        <div class="panel">
            <nav class="sidebar" aria-label="Areas">
                <ul>
                    {AREAS
                        .into_iter()
                        .map(|(href, label)| if href == crate::support::INBOX_PATH {
                            view! { <li><crate::support::SupportNavLink count=unread_tickets label/></li> }.into_any()
                        } else if href == crate::accounting::SETTINGS_PATH {
                            view! {
                                <Suspense>
                                    {move || Suspend::new(async move {
                                        signed_in().await.filter(|u| u.manages_orders).map(|u| {
                                            let href = if u.manages_store { href } else { crate::accounting::LOG_PATH };
                                            view! { <li><A href=href>{label}</A></li> }
                                        })
                                    })}
                                </Suspense>
                            }.into_any()
                        } else if href == crate::whatsapp::SETUP_PATH || href == crate::store::STORE_PATH {
                            view! {
                                <Suspense>
                                    {move || Suspend::new(async move {
                                        signed_in().await.filter(|u| u.manages_store).map(|_| view! { <li><A href=href>{label}</A></li> })
                                    })}
                                </Suspense>
                            }.into_any()
                        } else {
                            view! { <li><A href=href exact=true>{label}</A></li> }.into_any()
                        })
                        .collect_view()}
                    <Suspense>
                        {move || Suspend::new(async move {
                            let user: Option<CurrentUser> = signed_in().await;
                            let (users, store) = user.map_or((false, false), |u| (u.manages_team, u.manages_store));
                            view! {
                                {store.then(|| view! {
                                    <li><A href="/admin/security">"Security"</A></li>
                                    <li><A href="/admin/audit">"Audit log"</A></li>
                                }.into_any())}
                                {users.then(|| view! { <li><A href="/admin/users">"Users"</A></li> })}
                                {store.then(|| view! {
                                    <li><A href="/admin/mail">"Email"</A></li>
                                    <li><A href="/admin/jobs">"Background jobs"</A></li>
                                }.into_any())}
                            }
                        })}
                    </Suspense>
                </ul>
            </nav>
            <main id="content" class="content">
                <Outlet/>
            </main>
        </div>
    }
}

/// Light or dark, remembered in the browser; the page starts in the remembered theme
/// (the shell's inline script) or the system's.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            dark.set(root.get_attribute("data-theme").as_deref() == Some("dark"));
        }
    });
    let toggle = move |_| {
        let next = !dark.get_untracked();
        dark.set(next);
        let theme = if next { "dark" } else { "light" };
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", theme);
        }
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item("backroom-theme", theme);
        }
    };
    view! {
        <button type="button" class="theme-toggle" aria-pressed=move || dark.get().to_string() on:click=toggle>
            {move || if dark.get() { "Light theme" } else { "Dark theme" }}
        </button>
    }
}

/// An area that a later part of Backroom delivers; says so plainly.
#[component]
pub fn NotBuiltYet(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <leptos_meta::Title text=format!("{title} · Backroom")/>
        <h1>{title}</h1>
        <div class="card notice">
            <p><strong>"This area is not built yet."</strong></p>
            <p>{what}</p>
        </div>
    }
}
