//! Backroom's admin panel: the Leptos pages, their components and the server functions
//! behind them. Server functions authenticate, call one backend function and map the
//! result; the rules live in the `backend` crate.

pub mod access;
pub mod account_links;
pub mod accounting;
pub mod audit;
pub mod auth;
pub mod chart;
#[cfg(feature = "ssr")]
pub mod context;
pub mod dashboard;
pub mod error;
pub mod filters;
pub mod following;
pub mod forms;
pub mod jobs;
pub mod layout;
pub mod live;
pub mod loaded;
pub mod mail;
pub mod orders;
pub mod reports;
pub mod security;
#[cfg(feature = "ssr")]
pub mod session;
pub mod settings;
pub mod store;
pub mod support;
pub mod transactions;
pub mod users;
pub mod whatsapp;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use layout::NotBuiltYet;

/// Sets the remembered theme before the first paint, so a dark page never flashes light.
const THEME_SCRIPT: &str = "try{var t=localStorage.getItem('backroom-theme');\
if(t==='dark'||t==='light'){document.documentElement.setAttribute('data-theme',t)}\
else if(matchMedia('(prefers-color-scheme: dark)').matches){document.documentElement.setAttribute('data-theme','dark')}}catch(e){}";

/// The HTML document around the panel, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <script nonce=use_nonce() inner_html=THEME_SCRIPT></script>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/pkg/backroom.css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, once the page is interactive: mark it, so tests
    // (and anyone curious) can tell a hydrated page from server-rendered HTML.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Router>
            <Routes fallback=|| view! { <main class="auth-page"><div class="card"><h1>"Page not found"</h1><p><a href="/admin">"Back to the dashboard"</a></p></div></main> }>
                <Route path=path!("/admin/setup") view=auth::SetupPage/>
                <Route path=path!("/admin/login") view=auth::LoginPage/>
                <Route path=path!("/admin/sign-in-code") view=auth::SignInCodePage/>
                <Route path=path!("/admin/forgot-password") view=account_links::ForgotPasswordPage/>
                <Route path=path!("/admin/reset-password") view=account_links::ResetPasswordPage/>
                <Route path=path!("/admin/invitation") view=account_links::InvitationPage/>
                <ParentRoute path=path!("/admin") view=layout::PanelLayout>
                    <Route path=path!("") view=dashboard::DashboardPage/>
                    <Route path=path!("orders") view=orders::list::OrdersPage/>
                    <Route path=path!("orders/:id") view=orders::page::OrderPage/>
                    <Route path=path!("transactions") view=transactions::TransactionsPage/>
                    <Route path=path!("reports") view=reports::ReportsPage/>
                    <Route path=path!("products") view=|| view! { <NotBuiltYet title="Products" what="Simple and variable products, stock, prices and images arrive with the products capability."/> }/>
                    <Route path=path!("support") view=support::inbox::InboxPage/>
                    <Route path=path!("support/settings") view=support::settings::SupportSettingsPage/>
                    <Route path=path!("support/:id") view=support::ticket::TicketPage/>
                    <Route path=path!("whatsapp") view=whatsapp::setup::WhatsAppSetupPage/>
                    <Route path=path!("whatsapp/settings") view=whatsapp::settings::WhatsAppSettingsPage/>
                    <Route path=path!("whatsapp/recovery") view=whatsapp::recovery::WhatsAppRecoveryPage/>
                    <Route path=path!("whatsapp/carts") view=whatsapp::carts::WhatsAppCartsPage/>
                    <Route path=path!("whatsapp/carts/:id") view=whatsapp::cart::WhatsAppCartPage/>
                    <Route path=path!("whatsapp/messages") view=whatsapp::messages::WhatsAppMessagesPage/>
                    <Route path=path!("store") view=store::connection::StoreConnectionPage/>
                    <Route path=path!("store/connect") view=store::connect::StoreConnectPage/>
                    <Route path=path!("store/import") view=store::import::StoreImportPage/>
                    <Route path=path!("accounting") view=accounting::settings::AccountingSettingsPage/>
                    <Route path=path!("accounting/log") view=accounting::log::AccountingLogPage/>
                    <Route path=path!("accounting/bulk/:id") view=accounting::bulk::BulkSyncPage/>
                    <Route path=path!("access") view=access::AccessPage/>
                    <Route path=path!("two-factor") view=access::two_factor::TwoFactorSetupPage/>
                    <Route path=path!("security") view=security::SecurityPage/>
                    <Route path=path!("audit") view=audit::AuditPage/>
                    <Route path=path!("settings") view=settings::SettingsPage/>
                    <Route path=path!("users") view=users::UsersPage/>
                    <Route path=path!("jobs") view=jobs::JobsPage/>
                    <Route path=path!("mail") view=mail::MailPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
