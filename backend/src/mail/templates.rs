//! What each email says, in the shop's language (English or Turkish), as a plain-text
//! part and an HTML part built from the same paragraphs. Every value that comes from a
//! person (a name, a note, a subject) is escaped in the HTML part; subjects and names are
//! made single-line before they reach a header (see [`one_line`]).

use vocabulary::people::Role;

/// A rendered email: what goes into the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who is writing: the shop's name and language (`en` or `tr`).
#[derive(Clone, Copy, Debug)]
pub struct Shop<'a> {
    pub name: &'a str,
    pub locale: &'a str,
}

impl<'a> From<&'a crate::settings::StoreSettings> for Shop<'a> {
    fn from(store: &'a crate::settings::StoreSettings) -> Shop<'a> {
        Shop { name: &store.name, locale: &store.locale }
    }
}

impl Shop<'_> {
    fn turkish(&self) -> bool {
        self.locale == "tr"
    }
}

/// A note the shop wrote to the customer on their order.
pub fn customer_note(shop: Shop<'_>, order_number: &str, customer_name: &str, note: &str) -> Rendered {
    let (subject, greeting, intro, thanks) = if shop.turkish() {
        (
            format!("{}: #{order_number} numaralı siparişiniz hakkında bir not", shop.name),
            greeting_tr(customer_name),
            format!("#{order_number} numaralı siparişinize bir not ekledik:"),
            format!("{} üzerinden alışveriş yaptığınız için teşekkür ederiz.", shop.name),
        )
    } else {
        (
            format!("A note about your order #{order_number} from {}", shop.name),
            greeting_en(customer_name),
            format!("We added a note to your order #{order_number}:"),
            format!("Thank you for shopping with {}.", shop.name),
        )
    };
    compose(shop, subject, &[Part::Text(greeting), Part::Text(intro), Part::Quote(note.to_owned()), Part::Text(thanks)])
}

/// To the customer, when the support form made a ticket. The reference is in the
/// subject, so a reply by email can find its ticket.
pub fn ticket_acknowledgement(
    shop: Shop<'_>,
    reference: &str,
    customer_name: &str,
    subject: &str,
    message: &str,
) -> Rendered {
    let (title, intro, later) = if shop.turkish() {
        (
            format!("[{reference}] Mesajınızı aldık: {subject}"),
            format!("{} destek ekibine yazdığınız mesajı aldık. Talep numaranız: {reference}.", shop.name),
            "En kısa sürede yanıt vereceğiz. Bu e-postayı yanıtlayarak ekleme yapabilirsiniz.".to_owned(),
        )
    } else {
        (
            format!("[{reference}] We received your message: {subject}"),
            format!("Thank you for writing to {}. Your ticket reference is {reference}.", shop.name),
            "We will answer as soon as we can. You can reply to this email to add to it.".to_owned(),
        )
    };
    let greeting = if shop.turkish() { greeting_tr(customer_name) } else { greeting_en(customer_name) };
    compose(shop, title, &[Part::Text(greeting), Part::Text(intro), Part::Quote(message.to_owned()), Part::Text(later)])
}

/// To the shop's notification address, when a ticket arrives.
pub fn ticket_for_shop(
    shop: Shop<'_>,
    reference: &str,
    order_number: &str,
    customer: &str,
    subject: &str,
    message: &str,
    link: &str,
) -> Rendered {
    let (title, intro, open) = if shop.turkish() {
        (
            format!("[{reference}] Yeni destek talebi: {subject}"),
            format!("{customer}, #{order_number} numaralı sipariş hakkında yazdı:"),
            format!("Talebi açın: {link}"),
        )
    } else {
        (
            format!("[{reference}] New support ticket: {subject}"),
            format!("{customer} wrote about order #{order_number}:"),
            format!("Open the ticket: {link}"),
        )
    };
    compose(shop, title, &[Part::Text(intro), Part::Quote(message.to_owned()), Part::Text(open)])
}

/// The shop's reply to a ticket, to the customer.
pub fn ticket_reply(shop: Shop<'_>, reference: &str, customer_name: &str, subject: &str, reply: &str) -> Rendered {
    let title = format!("[{reference}] Re: {subject}");
    let greeting = if shop.turkish() { greeting_tr(customer_name) } else { greeting_en(customer_name) };
    let later = if shop.turkish() {
        "Bu e-postayı yanıtlayarak bize yazabilirsiniz.".to_owned()
    } else {
        "You can reply to this email to write back.".to_owned()
    };
    compose(shop, title, &[Part::Text(greeting), Part::Text(reply.to_owned()), Part::Text(later)])
}

/// The "send test email" button's message.
pub fn test_message(shop: Shop<'_>) -> Rendered {
    let (subject, body) = if shop.turkish() {
        (
            format!("{}: Backroom deneme e-postası", shop.name),
            format!(
                "Bu, {} için Backroom'dan gönderilen bir deneme e-postasıdır. Bunu okuyabiliyorsanız e-posta gönderimi çalışıyor.",
                shop.name
            ),
        )
    } else {
        (
            format!("{}: Backroom test email", shop.name),
            format!("This is a test email from Backroom for {}. If you can read it, sending email works.", shop.name),
        )
    };
    compose(shop, subject, &[Part::Text(body)])
}

/// To a person who asked to reset their password (or for whom the command line made the
/// link): the link, and how long it works.
pub fn password_reset(shop: Shop<'_>, name: &str, link: &str, minutes: i64) -> Rendered {
    let (subject, greeting, intro, after) = if shop.turkish() {
        (
            format!("{}: Backroom parolanızı yenileyin", shop.name),
            greeting_tr(name),
            "Backroom parolanızı yenilemek için aşağıdaki bağlantıyı açın:".to_owned(),
            format!(
                "Bağlantı bir kez ve {minutes} dakika boyunca çalışır; kullanıldığında her oturumunuz kapanır. \
                 Bunu siz istemediyseniz bu e-postayı yok sayabilirsiniz: parolanız değişmez."
            ),
        )
    } else {
        (
            format!("{}: reset your Backroom password", shop.name),
            greeting_en(name),
            "To set a new password for Backroom, open this link:".to_owned(),
            format!(
                "The link works once, for {minutes} minutes; using it signs you out everywhere. \
                 If you did not ask for it, ignore this email: your password stays as it is."
            ),
        )
    };
    compose(shop, subject, &[Part::Text(greeting), Part::Text(intro), Part::Link(link.to_owned()), Part::Text(after)])
}

/// To a person invited to run the shop: who invited them, as what, and the link.
pub fn invitation(shop: Shop<'_>, inviter: &str, role: Role, link: &str, days: i64) -> Rendered {
    let (subject, intro, after) = if shop.turkish() {
        let role = match role {
            Role::Owner => "sahip",
            Role::Admin => "yönetici",
            Role::Manager => "mağaza yöneticisi",
            Role::Agent => "destek temsilcisi",
        };
        (
            format!("{}: Backroom'a davet edildiniz", shop.name),
            format!("{inviter} sizi {} mağazasını Backroom'da {role} olarak yönetmeye davet etti.", shop.name),
            format!(
                "Hesabınızı açmak ve parolanızı belirlemek için bağlantıyı açın. Bağlantı bir kez ve {days} gün boyunca çalışır."
            ),
        )
    } else {
        (
            format!("{}: you are invited to Backroom", shop.name),
            format!("{inviter} invited you to run {} in Backroom, as {}.", shop.name, role.label().to_lowercase()),
            format!("Open the link to make your account and set your password. It works once, for {days} days."),
        )
    };
    let greeting = if shop.turkish() { greeting_tr("") } else { greeting_en("") };
    compose(shop, subject, &[Part::Text(greeting), Part::Text(intro), Part::Link(link.to_owned()), Part::Text(after)])
}

fn greeting_en(name: &str) -> String {
    if name.trim().is_empty() { "Hello,".to_owned() } else { format!("Hello {},", name.trim()) }
}

fn greeting_tr(name: &str) -> String {
    if name.trim().is_empty() { "Merhaba,".to_owned() } else { format!("Merhaba {},", name.trim()) }
}

enum Part {
    Text(String),
    /// What a person wrote, set apart.
    Quote(String),
    /// An address to open, on a line of its own.
    Link(String),
}

/// Both parts from the same paragraphs, with the shop's name at the foot.
fn compose(shop: Shop<'_>, subject: String, parts: &[Part]) -> Rendered {
    let mut text = String::new();
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;max-width:40rem;margin:0 auto;padding:1rem\">",
        if shop.turkish() { "tr" } else { "en" },
        escape(&one_line(&subject)),
    );
    for part in parts {
        match part {
            Part::Text(t) => {
                text.push_str(t);
                html.push_str(&format!("<p>{}</p>", escape(t).replace('\n', "<br>")));
            }
            Part::Quote(q) => {
                for line in q.lines() {
                    text.push_str("> ");
                    text.push_str(line);
                    text.push('\n');
                }
                let lines: Vec<String> = q.lines().map(escape).collect();
                html.push_str(&format!(
                    "<blockquote style=\"border-left:3px solid #ccc;margin:1rem 0;padding:.25rem 1rem\">{}</blockquote>",
                    lines.join("<br>")
                ));
            }
            Part::Link(url) => {
                text.push_str(url);
                html.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", escape(url)));
            }
        }
        text.push_str("\n\n");
    }
    text.push_str(&format!("-- \n{}\n", shop.name));
    html.push_str(&format!("<hr><p style=\"color:#666\">{}</p></body></html>", escape(shop.name)));
    Rendered { subject: one_line(&subject), text, html }
}

/// Text safe inside HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line of at most 200 characters: control characters (CR and LF above all, which
/// could start a new header) become spaces, runs of spaces one.
pub fn one_line(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: Shop<'static> = Shop { name: "Anadolu <Home>", locale: "en" };

    #[test]
    fn what_people_wrote_is_escaped_in_html_and_kept_in_text() {
        let mail = customer_note(SHOP, "1042", "<b>Ayşe</b>", "Kargo <script>alert(1)</script>\nyolda");
        assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;<br>yolda"));
        assert!(mail.html.contains("Hello &lt;b&gt;Ayşe&lt;/b&gt;,"));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.text.contains("> Kargo <script>alert(1)</script>\n> yolda"));
        assert_eq!(mail.subject, "A note about your order #1042 from Anadolu <Home>");
    }

    #[test]
    fn turkish_shops_write_in_turkish() {
        let mail = customer_note(Shop { name: "Çiçek Evi", locale: "tr" }, "7", "Şükrü Öztürk", "Teşekkürler");
        assert_eq!(mail.subject, "Çiçek Evi: #7 numaralı siparişiniz hakkında bir not");
        assert!(mail.text.starts_with("Merhaba Şükrü Öztürk,"));
        assert!(mail.html.contains("lang=\"tr\""));
    }

    #[test]
    fn account_links_are_on_a_line_of_their_own_and_a_link_in_html() {
        let link = "https://shop.example/admin/reset-password?token=abc&x=\"1\"";
        let mail = password_reset(SHOP, "Ada", link, 30);
        assert!(mail.text.contains(&format!("\n\n{link}\n\n")), "{}", mail.text);
        assert!(mail.text.contains("30 minutes"));
        let escaped = "https://shop.example/admin/reset-password?token=abc&amp;x=&quot;1&quot;";
        assert!(mail.html.contains(&format!("<a href=\"{escaped}\">{escaped}</a>")), "{}", mail.html);
        let invited = invitation(Shop { name: "Çiçek Evi", locale: "tr" }, "Ayşe", Role::Admin, link, 7);
        assert_eq!(invited.subject, "Çiçek Evi: Backroom'a davet edildiniz");
        assert!(invited.text.contains("Ayşe sizi Çiçek Evi mağazasını Backroom'da yönetici olarak"));
        assert!(invited.text.contains("7 gün"));
        let invited = invitation(SHOP, "Ayşe", Role::Manager, link, 7);
        assert!(invited.text.contains("Ayşe invited you to run Anadolu <Home> in Backroom, as shop manager."));
        assert!(invited.text.contains("7 days"));
    }

    #[test]
    fn a_header_value_never_spans_lines() {
        assert_eq!(one_line("Hi\r\nBcc: everyone@example.com"), "Hi Bcc: everyone@example.com");
        assert_eq!(one_line(&"x".repeat(500)).len(), 200);
        let mail = customer_note(Shop { name: "Shop\r\nX-Evil: 1", locale: "en" }, "1", "", "n");
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
    }
}
