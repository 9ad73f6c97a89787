//! The panel's WebAssembly entry point.

// Both builds erase the components' view types (Cargo.toml: always-erase-components); a
// build that does not lays the largest pages out deeper than the default limit allows.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
