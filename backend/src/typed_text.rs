//! Text a person typed into a field with a length limit: a note, a reply, a label, a search.

/// The text without the whitespace around it, when it holds 1 to `max` characters. The
/// limit counts the text as it was sent, which is what the API's schema promises a
/// client; text that is only whitespace counts as empty.
pub fn within(text: &str, max: usize) -> Option<&str> {
    let kept = text.trim();
    (!kept.is_empty() && text.chars().count() <= max).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn the_limit_counts_the_text_as_sent_and_blank_text_is_empty() {
        assert_eq!(within("  a note ", 9), Some("a note"));
        assert_eq!(within("  a note ", 8), None, "the spaces around it count towards the limit");
        assert_eq!(within("ğüşiöç", 6), Some("ğüşiöç"), "characters, not bytes");
        assert_eq!(within(" \n\t ", 10), None);
        assert_eq!(within("", 10), None);
    }
}
