//! [`WhatsAppAddress`]: who a message goes to or comes from, as WhatsApp
//! names it — one rule for every entry point (the send route, the bridge's
//! commands) and every engine.

use std::fmt;

use crate::values::ValidationError;

/// The kind of a WhatsApp address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    /// A user, by phone number: `<digits>@s.whatsapp.net`.
    User,
    /// A group: `<digits>[-<digits>]@g.us`.
    Group,
    /// A user by their linked identity (no phone number shown): `<digits>@lid`.
    Lid,
}

/// Digits a phone number has, country code included (E.164 allows 15; the
/// shortest national numbers with their country code have 8).
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// Digits the user part of a JID may have.
const JID_DIGITS: std::ops::RangeInclusive<usize> = 1..=32;

/// A WhatsApp address: a user JID, a group JID, a LID, or a phone number
/// (with its country code; `+`, spaces, dashes and brackets are allowed)
/// normalised to its user JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WhatsAppAddress {
    jid: String,
    kind: AddressKind,
}

impl WhatsAppAddress {
    /// What the rule says, for error messages.
    pub const RULE: &'static str = "a phone number with country code or a WhatsApp JID (<digits>@s.whatsapp.net, <id>@g.us, <digits>@lid)";

    /// Parses a JID or a phone number.
    ///
    /// # Errors
    /// [`ValidationError`] naming `field` and [`WhatsAppAddress::RULE`].
    pub fn parse_field(field: &'static str, input: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new(field, format!("must be {}", Self::RULE));
        let input = input.trim();
        if let Some((user, server)) = input.split_once('@') {
            let digits =
                |s: &str| JID_DIGITS.contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit());
            let kind = match server {
                "s.whatsapp.net" if digits(user) => AddressKind::User,
                "lid" if digits(user) => AddressKind::Lid,
                "g.us" => match user.split_once('-') {
                    Some((a, b)) if digits(a) && digits(b) => AddressKind::Group,
                    None if digits(user) => AddressKind::Group,
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            };
            return Ok(Self {
                jid: input.to_owned(),
                kind,
            });
        }
        if !input
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
        {
            return Err(bad());
        }
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if !PHONE_DIGITS.contains(&digits.len()) {
            return Err(bad());
        }
        Ok(Self {
            jid: format!("{digits}@s.whatsapp.net"),
            kind: AddressKind::User,
        })
    }

    /// Parses a JID or a phone number (field name `address` in errors).
    ///
    /// # Errors
    /// As [`WhatsAppAddress::parse_field`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        Self::parse_field("address", input)
    }

    /// The JID.
    pub fn as_str(&self) -> &str {
        &self.jid
    }

    /// Its kind.
    pub fn kind(&self) -> AddressKind {
        self.kind
    }

    /// The phone number's digits, for a user JID.
    pub fn phone_digits(&self) -> Option<&str> {
        match self.kind {
            AddressKind::User => self.jid.split('@').next(),
            AddressKind::Group | AddressKind::Lid => None,
        }
    }
}

impl fmt::Display for WhatsAppAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.jid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(input: &str) -> Option<(String, AddressKind)> {
        WhatsAppAddress::parse(input)
            .ok()
            .map(|a| (a.as_str().to_owned(), a.kind()))
    }

    #[test]
    fn phone_numbers_become_user_jids() {
        assert_eq!(
            jid("+55 (11) 99999-0000"),
            Some(("5511999990000@s.whatsapp.net".into(), AddressKind::User))
        );
        assert_eq!(
            WhatsAppAddress::parse("5511999990000")
                .unwrap()
                .phone_digits(),
            Some("5511999990000")
        );
    }

    #[test]
    fn jids_of_every_kind_are_kept() {
        assert_eq!(
            jid("5511999990000@s.whatsapp.net"),
            Some(("5511999990000@s.whatsapp.net".into(), AddressKind::User))
        );
        assert_eq!(
            jid("120363-42@g.us"),
            Some(("120363-42@g.us".into(), AddressKind::Group))
        );
        assert_eq!(
            jid("120363025246125888@g.us"),
            Some(("120363025246125888@g.us".into(), AddressKind::Group))
        );
        assert_eq!(
            jid("123456789012345@lid"),
            Some(("123456789012345@lid".into(), AddressKind::Lid))
        );
        assert_eq!(
            WhatsAppAddress::parse("120363-42@g.us")
                .unwrap()
                .phone_digits(),
            None
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_rule() {
        for bad in [
            "",
            "abc",
            "123",
            "1234567890123456",
            "5511999990000@evil.com",
            "@g.us",
            "55-11@s.whatsapp.net",
            "1-2-3@g.us",
            "-1@g.us",
            "abc@lid",
            "5511 9999@s.whatsapp.net",
        ] {
            let e = WhatsAppAddress::parse_field("number", bad).unwrap_err();
            assert!(
                e.to_string().starts_with("number must be a phone number"),
                "{bad}: {e}"
            );
        }
    }
}
