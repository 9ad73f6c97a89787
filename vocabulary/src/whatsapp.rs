//! WhatsApp: the limits on what is typed to set up the shop's WhatsApp Business account,
//! to send it a test, and to set the opt-out words and the click-to-chat widget.

/// The most digits of an id Meta shows for the account: its Phone Number ID or its WhatsApp
/// Business Account (WABA) ID.
pub const MAX_ID_DIGITS: usize = 40;
/// The most characters of the system user's access token.
pub const MAX_ACCESS_TOKEN_CHARS: usize = 1_000;
/// The most characters of the Meta app's secret.
pub const MAX_APP_SECRET_CHARS: usize = 200;
/// The most characters of the Graph API version (`v23.0`).
pub const MAX_GRAPH_VERSION_CHARS: usize = 8;
/// The longest the Graph API's base URL may be, in bytes (characters, for an ASCII address).
pub const MAX_GRAPH_BASE_URL_CHARS: usize = 300;
/// The most characters of a value typed for a template's parameter in a test send.
pub const MAX_PARAMETER_CHARS: usize = 200;
/// The most characters of a phone number as typed: its digits with a `+`, spaces, dashes
/// and brackets (`+90 (532) 123-45-67`).
pub const MAX_PHONE_CHARS: usize = 30;
/// The most digits of the default country's calling code (`90`), typed with or without a
/// `+` before it.
pub const MAX_CALLING_CODE_DIGITS: usize = 3;
/// The most opt-out words.
pub const MAX_OPT_OUT_WORDS: usize = 50;
/// The most characters of an opt-out word.
pub const MAX_OPT_OUT_WORD_CHARS: usize = 40;
/// The most characters of the opt-out words typed as one text: each word at its longest,
/// followed by a comma and a space.
pub const MAX_OPT_OUT_TEXT_CHARS: usize = MAX_OPT_OUT_WORDS * (MAX_OPT_OUT_WORD_CHARS + 2);
/// The most characters of the message the widget prefills.
pub const MAX_WIDGET_TEXT_CHARS: usize = 500;
/// The most characters of the widget's button label (which may not be empty).
pub const MAX_WIDGET_LABEL_CHARS: usize = 60;
/// The most characters of the message the widget shows outside the opening hours.
pub const MAX_OUTSIDE_MESSAGE_CHARS: usize = 300;
/// The most characters of a day's opening hours (`09:00-18:00`).
pub const MAX_OPENING_HOURS_CHARS: usize = 11;
