//! Live updates: the server's `/admin/live` stream of server-sent events says when new
//! orders arrive, and pages that show orders reload what they show. The browser's
//! `EventSource` reconnects by itself after a dropped connection or a server restart.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, closure::Closure};

/// Where the panel listens; the server's route has the same path.
pub const LIVE_PATH: &str = "/admin/live";
/// The event sent when orders newer than the last ones seen arrive.
pub const NEW_ORDERS_EVENT: &str = "orders";

/// A count of the times new orders arrived while this page is open: 0 at first and on
/// the server. Track it in a resource's source to reload the resource when it moves.
pub fn use_new_orders() -> ReadSignal<u64> {
    let (arrivals, set_arrivals) = signal(0u64);
    // Effects run only in the browser: the connection is opened there, and closed when
    // the page that asked for it goes away.
    Effect::new(move |_| {
        let Ok(source) = web_sys::EventSource::new(LIVE_PATH) else { return };
        let on_orders = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| set_arrivals.update(|n| *n += 1));
        let _ = source.add_event_listener_with_callback(NEW_ORDERS_EVENT, on_orders.as_ref().unchecked_ref());
        // The browser has one thread; the wrapper satisfies the cleanup's `Send` bound.
        let open = SendWrapper::new((source, on_orders));
        on_cleanup(move || open.0.close());
    });
    arrivals
}
