//! Support: the customer's side — the form that turns a verified question about an
//! order into a ticket ([`form`]) — and the shop's side — the tickets with their thread,
//! replies that are emailed, internal notes, assignment and status ([`tickets`]); and
//! where the form may be embedded and how often it may be used ([`settings`]).

pub mod form;
pub mod settings;
pub mod tickets;

pub use vocabulary::support::TicketStatus;

/// A ticket's reference: `T-` and six letters or digits that cannot be misread (no 0/O,
/// 1/I/L), e.g. `T-7KQ3M9`.
fn new_reference() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let code: String = (0..6).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
    format!("T-{code}")
}
