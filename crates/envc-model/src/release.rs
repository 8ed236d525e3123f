//! The numbered release a locked prod mode builds, for what names it to deployers (the chart's
//! `version` and `appVersion`).

/// The release number of a lock and where its newest promotion came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseNumber {
    /// `[lock] release`: 1 for the first promotion, one more for each one after.
    pub number: u64,
    /// Git revision of the project when the newest promotion was made, when known.
    pub revision: Option<String>,
}

impl ReleaseNumber {
    /// The chart version of the release: `<number>.0.0`. Every promotion may change anything
    /// (images, configuration, removed services), so each is a major version.
    pub fn chart_version(&self) -> String {
        format!("{}.0.0", self.number)
    }

    /// The chart's `appVersion`: the first 12 hex digits of the revision promoted, or
    /// `release-<number>` when the promotion was made outside git.
    pub fn app_version(&self) -> String {
        match &self.revision {
            Some(r) if !r.is_empty() => r.chars().take(12).collect(),
            _ => format!("release-{}", self.number),
        }
    }
}
