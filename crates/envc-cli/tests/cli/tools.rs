//! Finding the pinned real validators the tests of the new commands use: in
//! `$ENVC_TOOLS/bin` (default `~/.cache/envc-tools/bin`), then on `PATH`. Without one, a test
//! says it was skipped, unless `ENVC_REQUIRE_TOOLS=1` (set by scripts/test), where it fails.

use std::path::{Path, PathBuf};

/// A program on `PATH` that is not one of the pinned validators (Graphviz): used when present,
/// never required.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|t| t.is_file())
}

/// The validator `name`, or `None` after printing why the caller skips (panics under
/// `ENVC_REQUIRE_TOOLS=1`).
pub fn tool(name: &str, what: &str) -> Option<PathBuf> {
    let tools = std::env::var_os("ENVC_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/envc-tools")));
    if let Some(t) = tools
        .map(|t| t.join("bin").join(name))
        .filter(|t| t.is_file())
    {
        return Some(t);
    }
    if let Some(t) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|t| t.is_file())
    }) {
        return Some(t);
    }
    let why = format!(
        "{name} not found in $ENVC_TOOLS/bin (~/.cache/envc-tools/bin) or on PATH; scripts/install-validators installs it"
    );
    assert!(
        std::env::var("ENVC_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "ENVC_REQUIRE_TOOLS=1: {why}"
    );
    eprintln!("SKIPPED {what}: {why}");
    None
}
