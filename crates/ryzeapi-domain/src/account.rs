//! Accounts: the owners of instances, administered with a TokenAccount.

use crate::time::Timestamp;

/// An account's opaque identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// Wraps an identifier produced by the server's id generator or read back from storage.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account. Its token is not part of it: only a digest is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Identifier.
    pub id: AccountId,
    /// A label for operators.
    pub name: String,
    /// How many instances the account may own at once.
    pub max_instances: u32,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Account {
    /// Whether one more instance fits beside `current` existing ones.
    pub fn has_room_for_one_more(&self, current: u64) -> bool {
        current < u64::from(self.max_instances)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_counts_existing_instances() {
        let account = Account {
            id: AccountId::new("a"),
            name: "acme".into(),
            max_instances: 2,
            created_at: Timestamp::from_millis(0),
        };
        assert!(account.has_room_for_one_more(0));
        assert!(account.has_room_for_one_more(1));
        assert!(!account.has_room_for_one_more(2));
        assert!(!account.has_room_for_one_more(3));
    }
}
